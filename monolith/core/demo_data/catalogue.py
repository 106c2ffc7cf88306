"""The catalogue's word lists: root and leaf categories and what their products are called.

Package-internal: read by ``plans`` (product names, prices), ``writes`` (the categories) and
``seed`` (their count).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__: list[str] = []


@dataclass(frozen=True)
class _Leaf:
    name: str
    qualifiers: tuple[str, ...]
    nouns: tuple[str, ...]
    prices: tuple[int, int]  # whole units of currency, inclusive


@dataclass(frozen=True)
class _Root:
    name: str
    description: str
    pattern: str  # a product name from {q}ualifier, {n}oun and {v}ariant
    variants: tuple[str, ...]
    blurbs: tuple[str, ...]
    leaves: tuple[_Leaf, ...]


# One root category per entry: its name, description, product-name pattern, variants and
# description blurbs, then its leaves (name, qualifiers, nouns, price range).
# fmt: off
_CATALOGUE = (
    _Root("Books", "Novels, non-fiction and cookbooks.", "The {q} {n} ({v})",
          ("Paperback", "Hardcover", "Illustrated Edition", "Large Print"),
          ("A reader favourite, reprinted.", "Shortlisted for three prizes.", "With notes."), (
        _Leaf("Fiction", ("Silent", "Forgotten", "Last", "Hidden", "Northern"),
              ("Harbour", "Orchard", "Winter", "Letters", "Lighthouse", "River"), (8, 24)),
        _Leaf("Science & Nature", ("Restless", "Living", "Invisible", "Deep"),
              ("Ocean", "Forest", "Universe", "Genome", "Climate"), (12, 45)),
        _Leaf("History", ("Fallen", "Golden", "Long", "Iron"),
              ("Empire", "Crown", "Republic", "Voyage", "Frontier"), (14, 40)),
        _Leaf("Cookbooks", ("Everyday", "Slow", "Green", "Salt-and-Smoke"),
              ("Kitchen", "Table", "Bakery", "Pantry", "Harvest"), (15, 38)),
        _Leaf("Children's Books", ("Sleepy", "Brave", "Little", "Curious"),
              ("Dragon", "Bear", "Moon", "Treehouse", "Robot"), (6, 18)),
    )),
    _Root("Electronics", "Audio, computers, phones and the smart home.", "{q} {n} {v}",
          ("Mini", "Pro", "Max", "Lite", "S2", "X1"),
          ("Two-year warranty.", "Ships with a USB-C cable.", "Firmware updates included."), (
        _Leaf("Audio", ("Voltra", "Nordik", "Aerix"),
              ("Wireless Headphones", "Bluetooth Speaker", "Soundbar", "Earbuds"), (29, 349)),
        _Leaf("Computers", ("Lumen", "Kestrel", "Orbit"),
              ("Laptop", "Mechanical Keyboard", "Monitor", "Wireless Mouse", "USB-C Dock"),
              (19, 1899)),
        _Leaf("Phones & Tablets", ("Orbit", "Aerix", "Pixelo"),
              ("Smartphone", "Tablet", "Fast Charger", "Power Bank"), (15, 1099)),
        _Leaf("Cameras", ("Kestrel", "Optika"),
              ("Mirrorless Camera", "Action Camera", "Travel Tripod", "Camera Bag"), (25, 1499)),
        _Leaf("Smart Home", ("Lumen", "Nordik", "Hearth"),
              ("Smart Plug", "Video Doorbell", "Thermostat", "Smart Bulb"), (15, 249)),
    )),
    _Root("Home", "Furniture, lighting, bedding and decor.", "{q} {n}, {v}",
          ("Black", "Navy", "Sand", "Sage", "Charcoal", "Ivory", "Terracotta"),
          ("Made to last.", "Assembly takes ten minutes.", "Designed in Copenhagen."), (
        _Leaf("Furniture", ("Oak", "Walnut", "Rattan", "Birch"),
              ("Side Table", "Bookshelf", "Armchair", "Dining Chair", "Sideboard"), (59, 899)),
        _Leaf("Lighting", ("Brass", "Ceramic", "Linen", "Glass"),
              ("Floor Lamp", "Pendant Light", "Desk Lamp", "Wall Sconce"), (25, 329)),
        _Leaf("Bedding", ("Linen", "Cotton", "Percale", "Waffle"),
              ("Duvet Cover", "Pillowcase Set", "Throw Blanket", "Fitted Sheet"), (19, 159)),
        _Leaf("Decor", ("Marble", "Stoneware", "Velvet", "Brass"),
              ("Vase", "Wall Mirror", "Picture Frame", "Candle Holder", "Cushion"), (9, 189)),
    )),
    _Root("Kitchen", "Cookware, tableware and small appliances.", "{q} {n}, {v}",
          ("Black", "Cream", "Sage Green", "Graphite", "Red"),
          ("Dishwasher safe.", "Works on every hob, induction too.", "A cook's favourite."), (
        _Leaf("Cookware", ("Cast-Iron", "Stainless", "Enamelled", "Carbon-Steel"),
              ("Skillet", "Saucepan", "Dutch Oven", "Wok", "Stockpot"), (19, 249)),
        _Leaf("Tableware", ("Stoneware", "Porcelain", "Speckled"),
              ("Dinner Plate", "Pasta Bowl", "Mug", "Serving Platter"), (6, 89)),
        _Leaf("Small Appliances", ("Compact", "Retro", "Digital"),
              ("Kettle", "Toaster", "Blender", "Coffee Grinder", "Hand Mixer"), (24, 299)),
        _Leaf("Storage", ("Glass", "Bamboo", "Stackable"),
              ("Storage Jar", "Spice Rack", "Bread Bin", "Lunch Box"), (7, 59)),
    )),
    _Root("Garden", "Tools, plants and outdoor furniture.", "{q} {n}, {v}",
          ("Green", "Anthracite", "Natural", "Terracotta"),
          ("Weatherproof.", "Frost-hardy.", "Built for years of use."), (
        _Leaf("Garden Tools", ("Stainless", "Heavy-Duty", "Ash-Handled"),
              ("Spade", "Pruning Shears", "Hand Trowel", "Rake", "Wheelbarrow"), (9, 149)),
        _Leaf("Plants & Seeds", ("Heirloom", "Organic", "Dwarf"),
              ("Tomato Seeds", "Lavender Plant", "Herb Seed Kit", "Tulip Bulbs"), (3, 39)),
        _Leaf("Outdoor Furniture", ("Teak", "Folding", "Aluminium"),
              ("Garden Bench", "Bistro Set", "Sun Lounger", "Parasol"), (49, 699)),
        _Leaf("Watering", ("Galvanised", "Self-Watering", "Expandable"),
              ("Watering Can", "Hose Reel", "Planter", "Rain Barrel"), (8, 129)),
    )),
    _Root("Sports & Outdoors", "Camping, cycling, fitness and running.", "{q} {n}, {v}",
          ("Black", "Blue", "Orange", "Olive"),
          ("Tested in the Alps.", "Packs down small.", "Reflective details."), (
        _Leaf("Camping", ("Ultralight", "2-Person", "4-Season"),
              ("Tent", "Sleeping Bag", "Camping Stove", "Headlamp"), (19, 549)),
        _Leaf("Cycling", ("Commuter", "Gravel", "Aero"),
              ("Bike Helmet", "Bike Light Set", "Cycling Jersey", "Pannier Bag"), (15, 199)),
        _Leaf("Fitness", ("Non-Slip", "Adjustable", "Studio"),
              ("Yoga Mat", "Kettlebell", "Resistance Bands", "Foam Roller"), (12, 149)),
        _Leaf("Running", ("Trail", "Road", "Cushioned"),
              ("Running Shoes", "Running Vest", "Hydration Belt"), (19, 189)),
    )),
    _Root("Toys & Games", "Board games, building sets and puzzles.", "{q} {n} ({v})",
          ("Ages 4+", "Ages 8+", "Ages 12+", "Family Edition"),
          ("Hours of play.", "A family favourite.", "No batteries needed."), (
        _Leaf("Board Games", ("Family", "Strategy", "Party", "Cooperative"),
              ("Board Game", "Card Game", "Dice Game"), (12, 69)),
        _Leaf("Building Sets", ("Castle", "Space Station", "Pirate Ship", "City Tram"),
              ("Building Set", "Construction Kit"), (15, 199)),
        _Leaf("Puzzles", ("Mountain Lake", "Old Town", "Night Sky", "Botanical"),
              ("Jigsaw Puzzle", "3D Puzzle"), (9, 45)),
    )),
    _Root("Fashion", "Bags, shoes, outerwear and accessories.", "{q} {n}, {v}",
          ("Black", "Navy", "Camel", "Olive", "Grey"),
          ("Responsibly made.", "Free returns within 30 days.", "True to size."), (
        _Leaf("Bags", ("Leather", "Canvas", "Waxed-Cotton"),
              ("Backpack", "Tote Bag", "Weekender", "Crossbody Bag"), (29, 349)),
        _Leaf("Shoes", ("Suede", "Leather", "Knit"),
              ("Sneakers", "Chelsea Boots", "Loafers"), (49, 249)),
        _Leaf("Outerwear", ("Quilted", "Wool", "Waterproof"),
              ("Jacket", "Parka", "Coat"), (69, 449)),
        _Leaf("Accessories", ("Merino", "Silk", "Leather"),
              ("Scarf", "Belt", "Gloves", "Beanie"), (12, 119)),
    )),
)
# fmt: on
