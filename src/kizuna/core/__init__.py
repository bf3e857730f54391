"""Pure core: labels, release, clocks, records, geo, i18n. No I/O."""
