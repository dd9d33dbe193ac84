"""Word lists the catalogue generator draws names from (all invented)."""

FIRST_NAMES = [
    "Ada", "Ben", "Cleo", "Dario", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonah", "Kira", "Luca",
    "Maya", "Nico", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tove", "Umar", "Vera", "Wren", "Yara",
    "Zeno", "Ayla", "Bruno", "Chiara", "Dmitri", "Esme", "Farid", "Gwen", "Hana", "Ivo", "Juno",
]

LAST_NAMES = [
    "Adler", "Brandt", "Castillo", "Dumont", "Eriksen", "Fontaine", "Gallo", "Hart", "Ito", "Jansen",
    "Kowalski", "Lind", "Moreau", "Novak", "Okafor", "Petrov", "Quist", "Rossi", "Sato", "Tanaka",
    "Ulrich", "Valdez", "Weber", "Xu", "Young", "Zamora", "Bauer", "Costa", "Dahl", "Engel",
]

BAND_ADJECTIVES = [
    "Velvet", "Neon", "Silent", "Golden", "Paper", "Electric", "Hollow", "Crimson", "Lunar", "Wild",
    "Glass", "Midnight", "Static", "Violet", "Northern", "Burning", "Quiet", "Cosmic", "Broken", "Amber",
    "Radiant", "Faded", "Iron", "Secret", "Tidal", "Sugar", "Pale", "Restless", "Distant", "Copper",
]

BAND_NOUNS = [
    "Harbors", "Foxes", "Machines", "Gardens", "Tigers", "Lanterns", "Rivers", "Ghosts", "Signals",
    "Parades", "Comets", "Orchards", "Satellites", "Wolves", "Mirrors", "Tides", "Kites", "Engines",
    "Owls", "Canyons", "Echoes", "Pilots", "Cathedrals", "Embers", "Arcades", "Moths", "Islands",
]

SINGLE_WORD_NAMES = [
    "Kaskade", "Moonbay", "Sola", "Vantablue", "Lowtide", "Nyxie", "Orbitron", "Pyra", "Quasar",
    "Rilo", "Saffire", "Telescape", "Umbra", "Vesper", "Wavelet", "Xylo", "Yumi", "Zephyra",
]

TITLE_WORDS = [
    "Afterglow", "Blue", "Hours", "Summer", "Static", "Heart", "Signal", "Midnight", "Gold", "Rain",
    "Runaway", "Electric", "Dreams", "Fever", "Satellite", "Honey", "Ocean", "Paper", "Fire", "Echo",
    "Shadows", "Velvet", "Horizon", "Neon", "Silver", "Wildflower", "Gravity", "Mirage", "Lights",
    "Daydream", "Thunder", "Crystal", "Highway", "Youth", "Sunset", "Glow", "Orbit", "Tides", "Bloom",
    "Stranger", "Motion", "Fading", "Lonely", "Golden", "Parade", "Window", "Northern", "Ghost",
]

TITLE_TEMPLATES = [
    "{a}", "{a} {b}", "The {a}", "{a} & {b}", "{a} in {b}", "Little {a}", "{a} {b}", "No {a}",
    "{a} Again", "Into the {a}", "{a} of {b}", "{a}",
]

LABELS = [
    "Sandbox Records", "Loopback Music", "Harbor Lights Recordings", "Northside Audio", "Paper Moon Records",
    "Static Bloom", "Copperline", "Tidewater Sound",
]

# Mixed case and stray whitespace on purpose: consumers must normalise (lower-case, trim).
GENRES = [
    "indie pop", "Indie Pop", "dream pop", " shoegaze", "synthwave", "bedroom pop ", "alt z", "Hip Hop",
    "hip hop", "k-pop", "neo soul", "uk garage", "lo-fi beats", "Art Pop", "post-punk", "chillwave",
    "indie rock", "Indie Rock ", "electropop", "house", "deep house", "afrobeats", "latin pop", "jazz rap",
    "folk", "indie folk", "r&b", "R&B", "drum and bass", "hyperpop", "soft rock", "emo", " trap",
]
