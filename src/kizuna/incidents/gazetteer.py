"""Where a JMA prefecture code (JIS X 0401, ``Pref/Code``) is on the map: its prefectural
government office, to about 0.01°. Compiled public facts.

JMA bulletins name intensity areas and tsunami forecast areas by code, without geometry;
the prefecture's office is the one point every reader recognises, so a prefecture's
observed maximum intensity is drawn there. Finer areas (細分区域, cities) and tsunami
forecast areas need JMA's GIS data, which the node does not carry.
"""

from __future__ import annotations

PREFECTURE_OFFICES: dict[str, tuple[float, float]] = {
    "01": (43.064, 141.347),  # Hokkaido, Sapporo
    "02": (40.824, 140.740),  # Aomori
    "03": (39.704, 141.153),  # Iwate, Morioka
    "04": (38.269, 140.872),  # Miyagi, Sendai
    "05": (39.719, 140.102),  # Akita
    "06": (38.240, 140.364),  # Yamagata
    "07": (37.750, 140.468),  # Fukushima
    "08": (36.342, 140.447),  # Ibaraki, Mito
    "09": (36.566, 139.884),  # Tochigi, Utsunomiya
    "10": (36.391, 139.061),  # Gunma, Maebashi
    "11": (35.857, 139.649),  # Saitama
    "12": (35.605, 140.123),  # Chiba
    "13": (35.690, 139.692),  # Tokyo
    "14": (35.448, 139.643),  # Kanagawa, Yokohama
    "15": (37.902, 139.023),  # Niigata
    "16": (36.695, 137.211),  # Toyama
    "17": (36.594, 136.626),  # Ishikawa, Kanazawa
    "18": (36.065, 136.222),  # Fukui
    "19": (35.664, 138.568),  # Yamanashi, Kofu
    "20": (36.651, 138.181),  # Nagano
    "21": (35.391, 136.722),  # Gifu
    "22": (34.977, 138.383),  # Shizuoka
    "23": (35.180, 136.907),  # Aichi, Nagoya
    "24": (34.730, 136.509),  # Mie, Tsu
    "25": (35.004, 135.869),  # Shiga, Otsu
    "26": (35.021, 135.756),  # Kyoto
    "27": (34.686, 135.520),  # Osaka
    "28": (34.691, 135.183),  # Hyogo, Kobe
    "29": (34.685, 135.833),  # Nara
    "30": (34.226, 135.168),  # Wakayama
    "31": (35.504, 134.238),  # Tottori
    "32": (35.472, 133.050),  # Shimane, Matsue
    "33": (34.662, 133.935),  # Okayama
    "34": (34.397, 132.460),  # Hiroshima
    "35": (34.186, 131.471),  # Yamaguchi
    "36": (34.066, 134.559),  # Tokushima
    "37": (34.340, 134.043),  # Kagawa, Takamatsu
    "38": (33.842, 132.766),  # Ehime, Matsuyama
    "39": (33.560, 133.531),  # Kochi
    "40": (33.607, 130.418),  # Fukuoka
    "41": (33.249, 130.299),  # Saga
    "42": (32.745, 129.874),  # Nagasaki
    "43": (32.790, 130.742),  # Kumamoto
    "44": (33.238, 131.613),  # Oita
    "45": (31.911, 131.424),  # Miyazaki
    "46": (31.560, 130.558),  # Kagoshima
    "47": (26.212, 127.681),  # Okinawa, Naha
}


def prefecture_point(code: str) -> tuple[float, float] | None:
    """(lat, lon) of a prefecture's office, or None for a code that is not a prefecture's."""
    return PREFECTURE_OFFICES.get(code.zfill(2) if code.isdigit() else code)
