"""The SITREP's typst template: layout only. Every string it shows (headings from the
catalog, the banner, user text) arrives as data in ``sys.inputs.data`` (JSON) and is read
with ``json()``, so user text is never parsed as typst markup (no injection)."""

TEMPLATE = r"""
#let d = json(bytes(sys.inputs.data))
#let bar = block(
  width: 100%, fill: rgb(d.banner_bg), inset: (x: 4pt, y: 3pt),
  align(center, text(fill: rgb(d.banner_fg), weight: "bold", size: 9pt, d.banner)),
)
#set document(title: d.title)
#set text(font: d.font, size: 7.5pt, lang: d.lang)
#set par(justify: false)
#set page(
  paper: "a4",
  margin: (x: 1.4cm, top: 2.1cm, bottom: 2.3cm),
  header: bar,
  footer: context {
    bar
    v(-6pt)
    grid(
      columns: (1fr, auto),
      text(size: 7pt, d.series),
      text(size: 7pt, d.page + " " + counter(page).display("1 / 1", both: true)),
    )
  },
)
#set table(stroke: 0.4pt + luma(160), inset: (x: 3pt, y: 2pt))
#show heading: set block(above: 9pt, below: 5pt)

#text(size: 15pt, weight: "bold", d.title)
#linebreak()
#text(size: 11pt, d.subtitle)
#linebreak()
#text(size: 9pt, fill: luma(70), d.series)

#for s in d.sections {
  heading(level: 1, s.heading)
  if "fields" in s {
    table(
      columns: (auto, 1fr),
      ..s.fields.map(f => (strong(f.at(0)), f.at(1))).flatten(),
    )
  } else if s.rows.len() == 0 {
    text(fill: luma(90), d.none)
  } else {
    table(
      columns: s.columns.len(),
      align: (x, y) => if s.align.at(x) == "right" { right } else { left },
      table.header(..s.columns.map(c => strong(c))),
      ..s.rows.flatten(),
    )
  }
}
"""
