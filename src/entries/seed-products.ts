// A generated catalogue for development and benchmarks: realistic names, descriptions, tags,
// prices and dates, the same for the same seed, so a benchmark run today and one next month search
// the same words. Product i's id derives from the seed and i alone, so seeding again inserts only
// the products a database lacks. Web-standard only: a benchmark calls it on any runtime.
import type { Client } from '@libsql/client';
import { getTableColumns, getTableName } from 'drizzle-orm';
import {
  type Currency,
  type NewProductRow,
  type ProductCategory,
  productCategories,
  products,
} from '../db/schema.ts';
import { seededRandom } from '../lib/seeded-random.ts';

export const maxSeedProducts = 1_000_000;
export const defaultProductSeed = 1;

export interface SeedProductsOptions {
  count: number;
  /**
   * User ids the products belong to, the first owning most: owner k gets a share proportional to
   * 1/k, as a few sellers hold most of a marketplace's listings.
   */
  owners: readonly string[];
  /** Products are dated over the 18 months before it. */
  now: Date;
  /** 0 to 2^32 - 1; the same seed gives the same products (dates relative to `now`). */
  seed?: number;
  progress?: (done: number, total: number) => void;
}

export interface SeedProductsReport {
  inserted: number;
  alreadyPresent: number;
}

// One statement, one round trip and one transaction a chunk, of about 1.8 MB. FTS5 writes a segment
// at each commit and merges them later: chunks of 1,000 cost SQLite some 40% more time.
const chunkSize = 5_000;

// seq is left to SQLite, which numbers rows in insertion order: the generator's index order.
const columns = Object.entries(getTableColumns(products)).filter(([key]) => key !== 'seq');

/**
 * A chunk travels as one JSON argument that SQLite spreads into rows, not as 12 bound values a
 * row: the client wraps each value in its own Hrana object, and for 100,000 products building
 * those 1.2 million objects cost more CPU than SQLite's inserts. The statement is written once,
 * from the schema. (WHERE true: without it SQLite would read ON CONFLICT as a join's ON.)
 */
const insertChunk =
  `INSERT INTO "${getTableName(products)}" (${columns.map(([, column]) => `"${column.name}"`).join(', ')}) ` +
  `SELECT ${columns.map((_, i) => `value ->> ${i}`).join(', ')} FROM json_each(?) WHERE true ` +
  `ON CONFLICT ("${products.id.name}") DO NOTHING`;

/** A product's values in column order, encoded as drizzle stores them (dates as ms, tags as JSON). */
function rowValues(product: NewProductRow): unknown[] {
  return columns.map(([key, column]) => {
    const value = product[key as keyof NewProductRow];
    return value === null || value === undefined ? null : column.mapToDriverValue(value);
  });
}

export async function seedProducts(
  client: Client,
  { count, owners, now, seed = defaultProductSeed, progress = () => {} }: SeedProductsOptions,
): Promise<SeedProductsReport> {
  if (!Number.isInteger(count) || count < 0 || count > maxSeedProducts) {
    throw new RangeError(`count must be a whole number from 0 to ${maxSeedProducts}`);
  }
  if (owners.length === 0) throw new RangeError('products need at least one owner');
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError('seed must be a whole number from 0 to 4294967295');
  }
  const generate = productGenerator({ count, owners, now, seed });
  let inserted = 0;
  // One chunk in flight while the next is generated: against a server in another process, the
  // generator's CPU time hides behind the database's.
  let inFlight: Promise<void> | undefined;
  for (let start = 0; start < count; start += chunkSize) {
    const end = Math.min(start + chunkSize, count);
    const rows = [];
    for (let i = start; i < end; i++) rows.push(rowValues(generate(i)));
    const args = [JSON.stringify(rows)];
    await inFlight;
    inFlight = client.execute({ sql: insertChunk, args }).then((result) => {
      inserted += result.rowsAffected;
      progress(end, count);
    });
  }
  await inFlight;
  return { inserted, alreadyPresent: count - inserted };
}

/** MurmurHash3's finalizer: a bijection on 32 bits, so distinct inputs never share an output. */
function mix32(value: number): number {
  let x = value >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

const hex = (value: number, digits: number) =>
  (value >>> 0).toString(16).padStart(8, '0').slice(-digits);

/**
 * UUID-shaped (version 4, RFC variant), so it passes the API's uuid validation. The first group is
 * a seeded bijection of the index, which keeps a seed's ids distinct; the rest only looks random.
 */
function productId(seed: number, index: number, random: () => number): string {
  const draw = () => Math.floor(random() * 0x100000000);
  const [a, b, c] = [draw(), draw(), draw()];
  return [
    hex(mix32(index + Math.imul(mix32(seed), 0x9e3779b9)), 8),
    hex(a, 4),
    `4${hex(a >>> 16, 3)}`,
    hex(0x8000 | (b & 0x3fff), 4),
    `${hex(b >>> 16, 4)}${hex(c, 8)}`,
  ].join('-');
}

/**
 * A product kind, the materials it comes in and its sizes (`|`-separated lists, maybe empty), and
 * its usual price range in euros; prices spread evenly on a log scale between the two.
 */
type Item = readonly [name: string, materials: string, sizes: string, low: number, high: number];

interface Vocabulary {
  items: readonly Item[];
  /** Words that go before a name, "Wireless" or "Pre-Seasoned". */
  qualifiers: readonly string[];
  /** Whether a colour belongs in the name (shirts, kettles), or would read oddly (books, food). */
  coloured: boolean;
  /** Phrases for the description, each able to follow "with". */
  features: readonly string[];
  /** Who or what it is for, after "Made for". */
  uses: readonly string[];
  /** Tags that suit every item of the category; the item's own noun may join them. */
  tags: readonly string[];
}

const apparel = 'Size XS|Size S|Size M|Size L|Size XL|Size XXL';
const waist = 'W30 L32|W32 L32|W34 L32|W36 L34';
const shoe = 'EU 37|EU 38|EU 39|EU 40|EU 41|EU 42|EU 43|EU 44|EU 45';
const pet = 'Small|Medium|Large|XL';

// biome-ignore format: one item to a line and filled word lists read as the catalogue they are
const vocabularies: Record<ProductCategory, Vocabulary> = {
  electronics: {
    items: [
      ['Noise-Cancelling Headphones', '', '', 79, 399],
      ['Over-Ear Headphones', '', '', 29, 249],
      ['True Wireless Earbuds', '', '', 19, 279],
      ['Bluetooth Speaker', '', '10 W|20 W|40 W', 19, 299],
      ['Soundbar', '', '2.1 Channel|5.1 Channel', 99, 899],
      ['Smartwatch', '', '41 mm|45 mm', 49, 499],
      ['Action Camera', '', '4K|5.3K', 79, 549],
      ['E-Reader', '', '6 inch|7 inch|16 GB|32 GB', 89, 299],
      ['Power Bank', 'Aluminium', '10000 mAh|20000 mAh|26800 mAh', 15, 79],
      ['Wireless Charging Pad', 'Aluminium|Fabric', '15 W', 12, 59],
      ['Turntable', 'Walnut|Bamboo', '', 99, 699],
      ['Mini Projector', '', '1080p|4K', 79, 899],
    ],
    qualifiers: ['Portable', 'Waterproof', 'Compact', 'Rugged', 'Slim', 'Smart', 'Fast-Charging',
      'Hi-Fi', 'Dual-Pairing', 'Low-Latency'],
    coloured: true,
    features: ['USB-C charging', 'a companion app for iOS and Android',
      'firmware updates for five years', 'a two-year warranty', 'a braided cable in the box',
      'a protective carrying case', 'a low standby power draw',
      'a matte, fingerprint-resistant finish'],
    uses: ['commuting and travel', 'the home office', 'workouts and runs', 'long flights',
      'movie nights'],
    tags: ['electronics', 'gadget', 'tech', 'wireless', 'portable', 'rechargeable', 'smart',
      'travel', 'gift', 'usb'],
  },
  computers: {
    items: [
      ['Laptop', '', '13 inch|14 inch|15.6 inch|16 GB RAM|32 GB RAM', 399, 2999],
      ['Mechanical Keyboard', '', 'Tenkeyless|75%|Full-Size', 49, 249],
      ['Gaming Mouse', '', '', 19, 149],
      ['Monitor', '', '24 inch|27 inch|32 inch|34 inch', 119, 1299],
      ['Docking Station', '', '8-in-1|12-in-1', 49, 349],
      ['External SSD', '', '500 GB|1 TB|2 TB|4 TB', 59, 399],
      ['Webcam', '', '1080p|4K', 29, 229],
      ['Wi-Fi Router', '', 'AX3000|AX5400|BE9300', 59, 449],
      ['Laptop Stand', 'Aluminium|Bamboo|Steel', '', 19, 99],
      ['USB-C Hub', 'Aluminium', '7-in-1|10-in-1', 19, 99],
      ['Graphics Tablet', '', 'Small|Medium|Large', 39, 499],
      ['Desk Mat', 'Leather|Cork|Felt', '40 x 90 cm', 12, 69],
    ],
    qualifiers: ['Ultra-Slim', 'Ergonomic', 'Low-Profile', 'Silent', 'Backlit', 'Wireless',
      'Thunderbolt 4', 'Foldable', 'Lightweight', 'Professional'],
    coloured: true,
    features: ['plug-and-play setup on Windows, macOS and Linux', 'a three-year warranty',
      'a braided USB-C cable', 'an aluminium finish that stays cool', 'driver-free operation',
      'a compact footprint on the desk', 'firmware updates over USB', 'recycled packaging'],
    uses: ['developers', 'gamers', 'photo and video editing', 'hybrid work', 'students'],
    tags: ['computer', 'tech', 'office', 'desk', 'setup', 'productivity', 'gaming', 'usb',
      'accessories', 'workstation'],
  },
  home: {
    items: [
      ['Throw Blanket', 'Wool|Cotton|Cashmere|Fleece', '130 x 170 cm', 19, 249],
      ['Duvet Cover Set', 'Linen|Cotton Sateen|Percale', 'Single|Double|King', 29, 249],
      ['Table Lamp', 'Ceramic|Brass|Glass|Rattan', '', 25, 299],
      ['Wall Mirror', 'Brass|Oak|Rattan', '50 cm|80 cm', 39, 349],
      ['Scented Candle', 'Soy Wax', '200 g|400 g', 9, 59],
      ['Storage Basket', 'Seagrass|Rattan|Jute|Felt', 'Set of 2|Set of 3', 12, 79],
      ['Bath Towel Set', 'Cotton|Bamboo|Waffle Cotton', '4-Piece|6-Piece', 19, 129],
      ['Area Rug', 'Wool|Jute|Cotton', '120 x 170 cm|160 x 230 cm|200 x 300 cm', 49, 799],
      ['Curtains', 'Linen|Velvet|Cotton', '140 x 260 cm', 19, 149],
      ['Cushion Cover', 'Linen|Velvet|Boucle', '45 x 45 cm|50 x 50 cm', 8, 49],
      ['Picture Frame', 'Oak|Walnut|Aluminium', '13 x 18 cm|30 x 40 cm|A3', 6, 69],
      ['Vase', 'Ceramic|Glass|Stoneware', 'Small|Large', 12, 149],
    ],
    qualifiers: ['Handwoven', 'Minimalist', 'Scandinavian', 'Vintage', 'Oversized', 'Reversible',
      'Textured', 'Rustic', 'Boho', 'Modern'],
    coloured: true,
    features: ['OEKO-TEX certified materials', 'hand-finished details',
      'a look that suits modern and classic rooms', 'easy care', 'fair-trade production',
      'gift-ready packaging', 'natural, undyed fibres', 'a texture that softens over time'],
    uses: ['living rooms', 'bedrooms', 'guest rooms', 'small flats', 'cosy evenings'],
    tags: ['home', 'decor', 'interior', 'cozy', 'living', 'bedroom', 'gift', 'handmade', 'textile',
      'style'],
  },
  kitchen: {
    items: [
      ['Skillet', 'Cast Iron|Carbon Steel|Stainless Steel', '20 cm|24 cm|26 cm|28 cm', 19, 149],
      ['Dutch Oven', 'Enamelled Cast Iron|Cast Iron', '3.8 L|5.2 L|6.7 L', 39, 399],
      ['Chef Knife', 'Damascus Steel|Stainless Steel|Carbon Steel', '18 cm|20 cm|23 cm', 19, 249],
      ['Cutting Board', 'Acacia Wood|Walnut|Bamboo|Olive Wood', '30 x 20 cm|45 x 30 cm', 15, 119],
      ['Electric Kettle', 'Stainless Steel|Glass', '1.2 L|1.7 L', 25, 149],
      ['French Press', 'Borosilicate Glass|Stainless Steel', '350 ml|1 L', 15, 69],
      ['Espresso Machine', 'Stainless Steel', '', 149, 1299],
      ['Stand Mixer', '', '4.8 L|5.5 L', 149, 699],
      ['Saucepan Set', 'Stainless Steel|Copper|Hard-Anodised Aluminium', '3-Piece|5-Piece', 49, 499],
      ['Baking Tray', 'Carbon Steel|Aluminium', '33 x 23 cm|40 x 30 cm', 8, 45],
      ['Food Storage Containers', 'Glass|Stainless Steel', 'Set of 6|Set of 10', 15, 79],
      ['Wok', 'Carbon Steel|Cast Iron', '30 cm|36 cm', 25, 149],
    ],
    qualifiers: ['Pre-Seasoned', 'Non-Stick', 'Induction-Ready', 'Dishwasher-Safe', 'Professional',
      'Heavy-Duty', 'Hand-Forged', 'Stackable', 'Compact', 'Oven-Safe'],
    coloured: true,
    features: ['a lifetime guarantee', 'dishwasher-safe parts', 'food-safe, PFAS-free materials',
      'a comfortable, balanced grip', 'easy cleaning', 'professional-grade build quality',
      'a space-saving design', 'recipes and care tips in the box'],
    uses: ['home cooks', 'weekend bakers', 'busy weeknights', 'coffee lovers', 'small kitchens'],
    tags: ['kitchen', 'cooking', 'cookware', 'baking', 'chef', 'homecooking', 'dining', 'utensils',
      'gift', 'durable'],
  },
  garden: {
    items: [
      ['Garden Hose', 'Rubber|PVC', '15 m|25 m|30 m', 19, 99],
      ['Pruning Shears', 'Carbon Steel|Stainless Steel', '', 12, 79],
      ['Raised Garden Bed', 'Cedar|Galvanised Steel|Larch', '120 x 60 cm|180 x 90 cm', 49, 399],
      ['Planter', 'Terracotta|Fibreclay|Recycled Plastic|Ceramic', '30 cm|40 cm|60 cm', 9, 149],
      ['Compost Bin', 'Recycled Plastic|Wooden', '300 L|400 L', 29, 179],
      ['Solar Path Lights', 'Stainless Steel', 'Pack of 6|Pack of 12', 15, 79],
      ['Watering Can', 'Galvanised Steel|Recycled Plastic', '5 L|9 L', 9, 69],
      ['Lawn Mower', '', '33 cm|37 cm|46 cm', 129, 699],
      ['Leaf Blower', '', '', 49, 299],
      ['Seed Starter Kit', '', '24 Cells|72 Cells', 9, 49],
      ['Bird Feeder', 'Cedar|Metal', '', 9, 69],
      ['Hedge Trimmer', '', '50 cm|60 cm', 49, 299],
    ],
    qualifiers: ['Expandable', 'Cordless', 'Self-Watering', 'Weatherproof', 'Heavy-Duty',
      'Frost-Resistant', 'Solar-Powered', 'Foldable', 'Quiet', 'Ergonomic'],
    coloured: false,
    features: ['UV-stable materials that last for seasons', 'a weatherproof finish',
      'tool-free assembly', 'a three-year guarantee', 'a lightweight build', 'recycled materials',
      'replacement parts available online', 'rust-resistant fittings'],
    uses: ['balconies', 'vegetable patches', 'small gardens', 'patios', 'allotments'],
    tags: ['garden', 'outdoor', 'gardening', 'plants', 'patio', 'lawn', 'backyard', 'tools',
      'balcony', 'summer'],
  },
  furniture: {
    items: [
      ['Bookshelf', 'Solid Oak|Walnut|Pine|Steel', '3-Shelf|5-Shelf', 59, 699],
      ['Office Chair', 'Mesh|Leather|Fabric', '', 79, 999],
      ['Coffee Table', 'Solid Oak|Walnut|Marble|Glass', '90 cm|120 cm', 79, 899],
      ['Sofa', 'Velvet|Boucle|Linen|Leather', '2-Seater|3-Seater', 399, 2999],
      ['Bed Frame', 'Solid Oak|Pine|Walnut|Metal', '140 x 200 cm|160 x 200 cm|180 x 200 cm', 149, 1499],
      ['Dining Table', 'Solid Oak|Walnut|Ash', '4-Seater|6-Seater', 199, 1999],
      ['Bar Stool', 'Oak|Steel|Rattan', '65 cm|75 cm', 39, 299],
      ['TV Stand', 'Walnut|Oak|Birch Plywood', '120 cm|160 cm', 79, 799],
      ['Standing Desk', 'Bamboo|Oak|Walnut', '120 x 60 cm|140 x 70 cm|160 x 80 cm', 249, 1199],
      ['Chest of Drawers', 'Pine|Oak|Birch Plywood', '3-Drawer|5-Drawer', 99, 899],
      ['Armchair', 'Velvet|Boucle|Leather|Rattan', '', 149, 1299],
      ['Shoe Rack', 'Bamboo|Steel|Oak', '3-Tier|5-Tier', 19, 149],
    ],
    qualifiers: ['Mid-Century', 'Height-Adjustable', 'Modular', 'Extendable', 'Upholstered',
      'Industrial', 'Stackable', 'Ergonomic', 'Scandinavian', 'Low-Profile'],
    coloured: true,
    features: ['assembly in under 30 minutes', 'a ten-year frame guarantee',
      'anti-tip wall fixings', 'scratch-resistant surfaces', 'adjustable feet for uneven floors',
      'delivery to the room of your choice', 'sustainably sourced materials',
      'a finish that resists stains'],
    uses: ['home offices', 'studio apartments', 'family dining rooms', 'reading corners',
      'open-plan living'],
    tags: ['furniture', 'interior', 'living', 'home', 'design', 'wood', 'modern', 'storage',
      'office', 'bedroom'],
  },
  clothing: {
    items: [
      ['T-Shirt', 'Organic Cotton|Merino|Linen', apparel, 9, 59],
      ['Hoodie', 'Cotton|Fleece|Recycled Cotton', apparel, 29, 129],
      ['Chinos', 'Cotton Twill|Stretch Cotton', waist, 29, 119],
      ['Jeans', 'Selvedge Denim|Stretch Denim', waist, 39, 199],
      ['Denim Jacket', '', apparel, 49, 199],
      ['Crew Neck Sweater', 'Merino|Cashmere|Lambswool|Cotton', apparel, 39, 299],
      ['Rain Jacket', 'Recycled Nylon', apparel, 59, 349],
      ['Oxford Shirt', 'Cotton', apparel, 29, 119],
      ['Midi Dress', 'Linen|Viscose|Silk', apparel, 39, 249],
      ['Puffer Vest', 'Recycled Down', apparel, 49, 229],
      ['Joggers', 'Cotton|Fleece', apparel, 25, 99],
      ['Overcoat', 'Wool|Wool-Cashmere', apparel, 129, 599],
    ],
    qualifiers: ['Slim Fit', 'Relaxed Fit', 'Tailored', 'Oversized', 'Lightweight', 'Heavyweight',
      'Packable', 'Stretch', 'Cropped', 'Classic'],
    coloured: true,
    features: ['a garment-dyed finish', 'flat-lock seams', 'reinforced stitching at stress points',
      'a true-to-size fit', 'fabric that keeps its shape wash after wash',
      'fair-wear certified production', 'temperature-regulating fibres', 'recycled trims'],
    uses: ['everyday wear', 'city breaks', 'layering in autumn', 'the office', 'weekend hikes'],
    tags: ['clothing', 'fashion', 'apparel', 'casual', 'style', 'wardrobe', 'menswear',
      'womenswear', 'sustainable', 'basics'],
  },
  shoes: {
    items: [
      ['Running Shoes', 'Mesh|Knit', shoe, 59, 229],
      ['Sneakers', 'Leather|Canvas|Suede', shoe, 49, 199],
      ['Chelsea Boots', 'Suede|Leather', shoe, 89, 349],
      ['Hiking Boots', 'Nubuck|Leather', shoe, 89, 299],
      ['Loafers', 'Leather|Suede', shoe, 69, 299],
      ['Sandals', 'Leather|Cork', shoe, 25, 149],
      ['Slippers', 'Wool Felt|Sheepskin', shoe, 19, 99],
      ['Trail Running Shoes', 'Mesh', shoe, 79, 229],
      ['Derby Shoes', 'Leather', shoe, 89, 349],
      ['Ankle Boots', 'Suede|Leather', shoe, 69, 299],
    ],
    qualifiers: ['Lightweight', 'Waterproof', 'Cushioned', 'Wide-Fit', 'Vegan', 'Breathable',
      'Minimalist', 'Slip-On', 'Recycled', 'Handmade'],
    coloured: true,
    features: ['a cushioned footbed', 'a grippy rubber outsole', 'a padded collar',
      'a true-to-size fit', 'recycled laces and lining', 'a breathable lining',
      'a flexible sole that needs no breaking in', 'stitched, repairable construction'],
    uses: ['daily runs', 'rocky trails', 'long days on your feet', 'smart-casual outfits',
      'rainy commutes'],
    tags: ['shoes', 'footwear', 'comfort', 'style', 'walking', 'casual', 'outdoor', 'running',
      'leather', 'everyday'],
  },
  beauty: {
    items: [
      ['Face Serum', 'Vitamin C|Hyaluronic Acid|Niacinamide|Retinol', '15 ml|30 ml', 12, 89],
      ['Moisturiser', 'Ceramide|Squalane|Aloe Vera', '50 ml|75 ml', 9, 79],
      ['Cleansing Balm', 'Oat|Camellia Oil', '100 ml|150 ml', 12, 49],
      ['Sunscreen SPF 50', '', '50 ml|100 ml', 8, 39],
      ['Lip Balm', 'Shea Butter|Beeswax', 'Pack of 3', 3, 19],
      ['Shampoo', 'Argan Oil|Rosemary|Tea Tree', '250 ml|500 ml', 5, 39],
      ['Hair Dryer', '', '1800 W|2200 W', 29, 449],
      ['Eye Cream', 'Caffeine|Peptide', '15 ml', 12, 69],
      ['Body Lotion', 'Shea Butter|Cocoa Butter|Coconut', '250 ml|400 ml', 6, 39],
      ['Makeup Brush Set', 'Vegan Bristle', '8-Piece|12-Piece', 15, 89],
      ['Eau de Parfum', '', '30 ml|50 ml|100 ml', 35, 249],
      ['Hair Oil', 'Argan|Rosehip|Jojoba', '50 ml|100 ml', 9, 49],
    ],
    qualifiers: ['Fragrance-Free', 'Hydrating', 'Brightening', 'Vegan', 'Lightweight', 'Overnight',
      'Gentle', 'Refillable', 'Travel-Size', 'Nourishing'],
    coloured: false,
    features: ['dermatologist-tested formulas', 'no parabens or sulphates',
      'cruelty-free ingredients', 'a recyclable bottle', 'a light, natural scent',
      'vegan ingredients', 'a travel-friendly size', 'a formula made in small batches'],
    uses: ['sensitive skin', 'dry and curly hair', 'morning routines', 'travel bags',
      'everyday use'],
    tags: ['beauty', 'skincare', 'haircare', 'selfcare', 'cosmetics', 'natural', 'vegan',
      'wellness', 'routine', 'gift'],
  },
  health: {
    items: [
      ['Electric Toothbrush', '', '', 29, 249],
      ['Massage Gun', '', '', 49, 399],
      ['Blood Pressure Monitor', '', 'Upper Arm|Wrist', 29, 119],
      ['Digital Thermometer', '', '', 9, 49],
      ['Vitamin D3 Capsules', '', '60 Capsules|120 Capsules|365 Capsules', 6, 29],
      ['Protein Powder', 'Whey|Pea|Plant-Based', '500 g|1 kg|2 kg', 19, 79],
      ['First Aid Kit', '', '90-Piece|160-Piece', 12, 69],
      ['Pill Organiser', '', '7-Day|14-Day', 5, 25],
      ['Heating Pad', '', '30 x 40 cm|30 x 60 cm', 19, 79],
      ['Smart Scale', 'Glass', '', 19, 129],
      ['Water Flosser', '', '', 29, 119],
      ['Knee Support', 'Neoprene|Knit', 'Size S|Size M|Size L', 9, 49],
    ],
    qualifiers: ['Rechargeable', 'Clinically Tested', 'Travel', 'Sugar-Free', 'Cordless',
      'Quick-Read', 'Bluetooth', 'Orthopaedic', 'Unflavoured', 'Quiet'],
    coloured: false,
    features: ['a two-year warranty', 'clear instructions in six languages',
      'medical-grade materials', 'a travel case', 'third-party testing',
      'a design recommended by physiotherapists', 'easy cleaning', 'a rechargeable battery'],
    uses: ['daily wellbeing', 'recovery after training', 'families', 'travel', 'older adults'],
    tags: ['health', 'wellness', 'care', 'fitness', 'recovery', 'selfcare', 'medical', 'family',
      'home', 'daily'],
  },
  sports: {
    items: [
      ['Yoga Mat', 'Natural Rubber|TPE|Cork', '4 mm|6 mm|8 mm', 15, 129],
      ['Dumbbell Set', 'Cast Iron|Steel', '2 x 12 kg|2 x 24 kg', 49, 499],
      ['Resistance Bands', 'Latex|Fabric', 'Set of 5', 9, 49],
      ['Bike Helmet', '', 'Size S|Size M|Size L', 29, 249],
      ['Football', '', 'Size 4|Size 5', 15, 149],
      ['Tennis Racket', 'Graphite|Carbon', '', 29, 249],
      ['Jump Rope', 'Steel Cable|PVC', '', 8, 39],
      ['Kettlebell', 'Cast Iron|Vinyl', '8 kg|12 kg|16 kg|24 kg', 19, 119],
      ['Foam Roller', 'EVA', '33 cm|45 cm', 12, 59],
      ['Swim Goggles', '', '', 8, 49],
      ['Padel Racket', 'Carbon|Fibreglass', '', 49, 299],
      ['Gym Bag', 'Recycled Polyester|Canvas', '30 L|40 L', 19, 119],
    ],
    qualifiers: ['Non-Slip', 'Adjustable', 'Pro', 'Lightweight', 'Anti-Fog', 'Competition',
      'Extra-Thick', 'Quick-Release', 'Breathable', 'Training'],
    coloured: true,
    features: ['a textured, non-slip grip', 'durable, sweat-resistant materials', 'a carry strap',
      'an antimicrobial finish', 'competition-grade build quality', 'a lightweight design',
      'a two-year guarantee', 'a storage bag'],
    uses: ['home workouts', 'the gym', 'team training', 'cyclists', 'beginners and pros alike'],
    tags: ['sports', 'fitness', 'training', 'gym', 'workout', 'exercise', 'active', 'strength',
      'cardio', 'equipment'],
  },
  outdoors: {
    items: [
      ['Tent', 'Ripstop Nylon|Polyester', '1-Person|2-Person|4-Person', 79, 799],
      ['Sleeping Bag', 'Down|Synthetic', 'Comfort -5 °C|Comfort 0 °C|Comfort 5 °C', 39, 499],
      ['Hiking Backpack', 'Ripstop Nylon|Recycled Polyester', '30 L|45 L|65 L', 49, 349],
      ['Headlamp', '', '400 lm|800 lm', 15, 99],
      ['Camping Stove', 'Titanium|Stainless Steel', '', 25, 179],
      ['Trekking Poles', 'Carbon|Aluminium', '', 29, 199],
      ['Water Filter', '', '', 19, 99],
      ['Hammock', 'Parachute Nylon|Cotton', 'Single|Double', 19, 129],
      ['Water Bottle', 'Stainless Steel|Titanium', '500 ml|750 ml|1 L', 12, 49],
      ['Camp Chair', 'Aluminium', '', 19, 149],
      ['Rain Shell', 'Recycled Nylon', apparel, 79, 449],
      ['Dry Bag', 'PVC|Ripstop Nylon', '10 L|20 L|30 L', 9, 49],
    ],
    qualifiers: ['Ultralight', '3-Season', 'Packable', 'Waterproof', 'Collapsible', 'Insulated',
      'Rechargeable', 'Windproof', 'Freestanding', 'Compact'],
    coloured: true,
    features: ['taped seams', 'a packed weight under 1 kg', 'recycled, PFC-free materials',
      'a lifetime repair service', 'reflective details', 'a stuff sack', 'a weatherproof finish',
      'field-tested durability'],
    uses: ['backpacking trips', 'wild camping', 'festival weekends', 'alpine hikes',
      'family campsites'],
    tags: ['outdoor', 'camping', 'hiking', 'adventure', 'trekking', 'travel', 'backpacking',
      'nature', 'gear', 'waterproof'],
  },
  toys: {
    items: [
      ['Building Blocks Set', 'Wooden|Recycled Plastic', '100 Pieces|250 Pieces|500 Pieces', 15, 149],
      ['Train Set', 'Wooden', '40-Piece|80-Piece', 19, 149],
      ['Teddy Bear', 'Organic Cotton|Plush', '30 cm|50 cm', 9, 79],
      ['Jigsaw Puzzle', 'Cardboard|Wooden', '500 Pieces|1000 Pieces', 9, 39],
      ['Board Game', '', '2-4 Players|2-6 Players', 15, 69],
      ['Remote Control Car', '', '1:16|1:24', 19, 149],
      ['Dollhouse', 'Wooden', '', 49, 249],
      ['Science Kit', '', 'Ages 8+|Ages 10+', 15, 69],
      ['Marble Run', 'Wooden', '80-Piece|150-Piece', 25, 129],
      ['Play Kitchen', 'Wooden', '', 59, 249],
      ['Kite', 'Ripstop Nylon', '', 12, 69],
      ['Card Game', '', 'Ages 7+|Ages 10+', 7, 29],
    ],
    qualifiers: ['Educational', 'Magnetic', 'Interactive', 'Classic', 'Giant', 'Glow-in-the-Dark',
      'Stackable', 'Eco-Friendly', 'Cooperative', 'Travel'],
    coloured: false,
    features: ['non-toxic, water-based paints', 'rounded edges for small hands',
      'step-by-step illustrated instructions', 'a storage box', 'EN 71 safety certification',
      'sustainably sourced materials', 'hours of open-ended play',
      'a design that grows with your child'],
    uses: ['family game nights', 'curious kids', 'rainy afternoons', 'toddlers',
      'birthday presents'],
    tags: ['toys', 'kids', 'games', 'play', 'family', 'learning', 'creative', 'gift', 'children',
      'fun'],
  },
  books: {
    items: [
      ['Cookbook', '', '', 15, 45],
      ['Travel Guide', '', '2nd Edition|3rd Edition', 12, 35],
      ['Novel', '', '', 8, 29],
      ['Field Guide to Birds', '', '', 15, 45],
      ['Picture Book', '', '', 7, 22],
      ['Biography', '', '', 12, 35],
      ['Programming Handbook', '', '2nd Edition|4th Edition', 29, 79],
      ['Poetry Collection', '', '', 9, 29],
      ['World Atlas', '', '', 19, 79],
      ['Graphic Novel', '', 'Volume 1|Volume 2', 12, 39],
      ['Journal', '', 'A5', 8, 29],
      ['Colouring Book', '', '', 5, 19],
    ],
    qualifiers: ['Illustrated', 'Hardcover', 'Paperback', 'Annotated', 'Pocket', 'Revised',
      'Bestselling', 'Large Print', 'Signed', 'Deluxe'],
    coloured: false,
    features: ['lay-flat binding', 'acid-free paper', 'a foreword by the author',
      'full-colour illustrations', 'a ribbon bookmark', 'a detailed index',
      'notes and further reading', 'a sewn binding that lasts'],
    uses: ['book clubs', 'curious readers', 'weekend projects', 'travellers', 'bedtime reading'],
    tags: ['books', 'reading', 'literature', 'gift', 'learning', 'bookshelf', 'library',
      'paperback', 'hardcover', 'stories'],
  },
  music: {
    items: [
      ['Acoustic Guitar', 'Spruce|Mahogany|Cedar', 'Dreadnought|Concert', 99, 1499],
      ['Digital Piano', '', '88-Key', 299, 1999],
      ['Ukulele', 'Mahogany|Koa|Spruce', 'Soprano|Concert|Tenor', 29, 299],
      ['Studio Monitors', '', '5 inch|8 inch', 99, 799],
      ['USB Microphone', '', '', 39, 199],
      ['Guitar Strings', 'Nickel-Wound|Phosphor Bronze', '10-46|11-52', 6, 25],
      ['Drum Pad', '', '', 19, 249],
      ['MIDI Keyboard', '', '25-Key|49-Key|61-Key', 49, 399],
      ['Audio Interface', '', '2-In 2-Out|4-In 4-Out', 79, 599],
      ['Vinyl Record', '', '180 g', 19, 45],
      ['Cajon', 'Birch|Beech', '', 49, 249],
      ['Guitar Pedal', '', '', 39, 299],
    ],
    qualifiers: ['Beginner', 'Studio', 'Weighted', 'Compact', 'Vintage', 'Handcrafted', 'Active',
      'Portable', 'Low-Latency', 'Analog'],
    coloured: true,
    features: ['a two-year warranty', 'studio-grade components', 'a setup guide and online lessons',
      'a protective case', 'road-ready build quality', 'a low-noise design',
      'a free software bundle', 'hand-checked quality control'],
    uses: ['beginners', 'home studios', 'live gigs', 'podcasters', 'songwriters'],
    tags: ['music', 'musician', 'instrument', 'recording', 'studio', 'audio', 'practice',
      'performance', 'beginner', 'gear'],
  },
  office: {
    items: [
      ['Notebook', 'Leather|Recycled Paper|Linen', 'A5|A4', 6, 39],
      ['Fountain Pen', 'Brass|Resin|Aluminium', 'Fine|Medium', 15, 249],
      ['Desk Organiser', 'Bamboo|Walnut|Steel', '', 12, 79],
      ['Label Printer', '', '', 29, 149],
      ['Paper Shredder', '', '6-Sheet|12-Sheet', 39, 299],
      ['Whiteboard', 'Glass|Enamel', '60 x 45 cm|90 x 60 cm', 25, 199],
      ['Desk Lamp', 'Aluminium|Brass', '', 25, 199],
      ['Weekly Planner', 'Linen|Leather', 'A5|B6', 12, 45],
      ['Filing Cabinet', 'Steel', '2-Drawer|3-Drawer', 79, 399],
      ['Monitor Riser', 'Bamboo|Walnut|Aluminium', '', 19, 99],
      ['Stapler', 'Metal', '', 6, 39],
      ['Highlighter Set', '', '6-Pack|12-Pack', 4, 19],
    ],
    qualifiers: ['Dotted', 'Refillable', 'Cross-Cut', 'Magnetic', 'Undated', 'Dimmable',
      'Heavy-Duty', 'Wireless', 'Recycled', 'Pastel'],
    coloured: true,
    features: ['FSC-certified materials', 'a minimalist design', 'a non-slip base',
      'refillable parts', 'a five-year warranty', 'recycled materials', 'space-saving proportions',
      'smooth, reliable operation'],
    uses: ['students', 'home offices', 'planning the week', 'meeting rooms', 'journaling'],
    tags: ['office', 'stationery', 'desk', 'workspace', 'productivity', 'school', 'writing',
      'organisation', 'supplies', 'planning'],
  },
  automotive: {
    items: [
      ['Car Vacuum', '', '', 29, 119],
      ['Phone Mount', '', '', 9, 49],
      ['Jump Starter', '', '1000 A|2000 A', 49, 199],
      ['Tyre Inflator', '', '12 V', 25, 99],
      ['Seat Covers', 'Neoprene|Faux Leather', 'Front Pair|Full Set', 29, 199],
      ['Roof Box', '', '320 L|420 L', 199, 799],
      ['Floor Mats', 'Rubber|Carpet', '4-Piece', 19, 99],
      ['Car Charger', '', '45 W|65 W', 9, 39],
      ['Wiper Blades', '', '550 mm|600 mm|650 mm', 12, 45],
      ['Tool Kit', 'Chrome Vanadium', '46-Piece|108-Piece', 29, 199],
      ['Dash Cam', '', '1080p|4K', 39, 299],
      ['Windscreen Sunshade', '', 'Standard|Large', 9, 39],
    ],
    qualifiers: ['Cordless', 'Magnetic', 'Portable', 'Universal', 'All-Weather', 'Heavy-Duty',
      'Quick-Fit', 'Digital', 'Compact', 'Foldable'],
    coloured: false,
    features: ['a fit for most cars, SUVs and vans', 'a two-year warranty',
      'tool-free installation', '12 V and USB-C power', 'a storage bag', 'all-weather materials',
      'a built-in LED light', 'a compact design that fits the glovebox'],
    uses: ['road trips', 'winter mornings', 'family cars', 'daily commuters', 'weekend detailing'],
    tags: ['car', 'automotive', 'driving', 'accessories', 'travel', 'vehicle', 'maintenance',
      'safety', 'roadtrip', 'tools'],
  },
  grocery: {
    items: [
      ['Coffee Beans', '', '250 g|500 g|1 kg', 7, 39],
      ['Olive Oil', '', '500 ml|750 ml|1 L', 8, 35],
      ['Green Tea', 'Sencha|Matcha|Jasmine', '20 Bags|100 g', 4, 29],
      ['Dark Chocolate', '', '100 g|Pack of 5', 2, 19],
      ['Pasta', 'Durum Wheat|Spelt', '500 g|1 kg', 1.5, 9],
      ['Honey', 'Wildflower|Manuka|Acacia', '250 g|500 g', 5, 59],
      ['Granola', 'Oat|Nut', '400 g|750 g', 4, 12],
      ['Hot Sauce', '', '150 ml', 4, 15],
      ['Basmati Rice', '', '1 kg|5 kg', 3, 19],
      ['Maple Syrup', '', '250 ml|500 ml', 7, 29],
      ['Peanut Butter', '', '340 g|1 kg', 3, 12],
      ['Sea Salt Flakes', '', '250 g', 3, 12],
    ],
    qualifiers: ['Organic', 'Single-Origin', 'Fair Trade', 'Extra Virgin', 'Raw', 'Gluten-Free',
      'Stone-Ground', 'Small-Batch', 'Unsweetened', 'Smoked'],
    coloured: false,
    features: ['no added sugar', 'ingredients traced to the farm', 'a resealable pack',
      'recyclable packaging', 'small-batch production', 'a best-before date of 12 months',
      'fair prices paid to growers', 'nothing artificial'],
    uses: ['slow mornings', 'the pantry', 'home cooks', 'healthy snacking', 'gift hampers'],
    tags: ['food', 'grocery', 'pantry', 'organic', 'gourmet', 'snacks', 'cooking', 'healthy',
      'breakfast', 'natural'],
  },
  pets: {
    items: [
      ['Dog Bed', 'Memory Foam|Faux Fur|Canvas', pet, 25, 199],
      ['Cat Tree', 'Sisal|Plush', '90 cm|150 cm', 39, 249],
      ['Dog Harness', 'Nylon|Neoprene', pet, 15, 69],
      ['Cat Litter', 'Clay|Tofu|Pine', '10 L|20 L', 8, 35],
      ['Dry Dog Food', 'Chicken|Salmon|Lamb', '2 kg|12 kg', 12, 89],
      ['Chew Toy', 'Natural Rubber|Rope', '', 5, 25],
      ['Pet Carrier', '', '', 25, 149],
      ['Cat Water Fountain', 'Stainless Steel|Ceramic', '2 L|3 L', 19, 69],
      ['Dog Leash', 'Leather|Nylon|Cotton Rope', '1.5 m|2 m', 9, 59],
      ['Scratching Post', 'Sisal|Cardboard', '60 cm|85 cm', 15, 79],
      ['Aquarium Filter', '', '60 L|200 L', 15, 149],
      ['Bird Cage', 'Steel', '', 39, 249],
    ],
    qualifiers: ['Orthopaedic', 'No-Pull', 'Grain-Free', 'Clumping', 'Reflective', 'Washable',
      'Airline-Approved', 'Tough', 'Calming', 'Automatic'],
    coloured: true,
    features: ['a vet-recommended design', 'pet-safe, non-toxic materials', 'easy cleaning',
      'a satisfaction guarantee', 'durable stitching', 'sustainably sourced materials',
      'a design tested by real pets', 'a size guide for every breed'],
    uses: ['large breeds', 'indoor cats', 'puppies', 'senior pets', 'travel with pets'],
    tags: ['pets', 'dog', 'cat', 'petcare', 'animals', 'puppy', 'kitten', 'accessories', 'comfort',
      'play'],
  },
  jewelry: {
    items: [
      ['Pendant Necklace', 'Sterling Silver|18k Gold-Plated|14k Gold', '45 cm|50 cm', 25, 599],
      ['Hoop Earrings', 'Sterling Silver|18k Gold-Plated', '15 mm|25 mm', 19, 399],
      ['Signet Ring', 'Sterling Silver|9k Gold', 'Size N|Size P|Size R', 49, 899],
      ['Chain Bracelet', 'Sterling Silver|Gold Vermeil', '18 cm|20 cm', 25, 499],
      ['Stud Earrings', 'Freshwater Pearl|Sterling Silver|14k Gold', '', 15, 499],
      ['Automatic Watch', 'Stainless Steel|Titanium', '38 mm|40 mm|42 mm', 149, 1499],
      ['Cufflinks', 'Sterling Silver|Brass', '', 29, 249],
      ['Charm Bracelet', 'Sterling Silver', '', 29, 299],
      ['Anklet', 'Sterling Silver|Gold-Plated', '', 12, 99],
      ['Stacking Ring', 'Sterling Silver|Rose Gold', 'Size L|Size N', 19, 299],
      ['Brooch', 'Enamel|Brass', '', 15, 149],
      ['Locket', 'Sterling Silver|Gold-Plated', '', 29, 349],
    ],
    qualifiers: ['Handmade', 'Minimalist', 'Engraved', 'Dainty', 'Chunky', 'Vintage-Style',
      'Hypoallergenic', 'Adjustable', 'Personalised', 'Art Deco'],
    coloured: false,
    features: ['a nickel-free finish', 'a gift box and polishing cloth',
      'ethically sourced materials', 'free engraving of up to 12 characters',
      'a two-year guarantee', 'hand-finished details', 'hypoallergenic metals',
      'a certificate of authenticity'],
    uses: ['everyday wear', 'anniversaries', 'weddings', 'layering', 'birthday gifts'],
    tags: ['jewelry', 'accessories', 'gift', 'fashion', 'silver', 'gold', 'handmade', 'elegant',
      'style', 'wedding'],
  },
};

// biome-ignore format: filled word lists
const brands = ['Nordvik', 'Alder & Co', 'Brightline', 'Kestrel', 'Solace', 'Vantage', 'Halden',
  'Lumio', 'Copperfield', 'Everwell', 'Tidewater', 'Orbis', 'Fernhill', 'Marlow', 'Stratus',
  'Juniper', 'Ironbark', 'Pebble & Pine', 'Northstar', 'Aurelia', 'Quill', 'Basalt', 'Wren',
  'Atlas Works'];
// biome-ignore format: filled word lists
const lines = ['Essential', 'Classic', 'Pro', 'Premium', 'Everyday', 'Signature', 'Studio',
  'Heritage', 'Eco', 'Original'];
// biome-ignore format: filled word lists
const colours = ['Black', 'White', 'Navy', 'Charcoal', 'Sage Green', 'Sand', 'Terracotta', 'Olive',
  'Slate Blue', 'Burgundy', 'Oatmeal', 'Mustard', 'Forest Green', 'Stone Grey'];
// biome-ignore format: filled word lists
const closings = ['Ships in recyclable, plastic-free packaging.', 'Backed by a two-year warranty.',
  'Makes a thoughtful gift.', 'Free returns within 30 days.',
  'Designed in Europe and built to last.', 'Rated 4.7 out of 5 by our customers.',
  'Spare parts available for ten years.', 'Carbon-neutral delivery.'];

/** Share of products priced in each currency, and what one euro is worth in it. */
const currencyMix: readonly (readonly [Currency, number, number])[] = [
  ['EUR', 0.42, 1],
  ['USD', 0.33, 1.08],
  ['GBP', 0.15, 0.85],
  ['CHF', 0.03, 0.95],
  ['CAD', 0.03, 1.48],
  ['AUD', 0.02, 1.65],
  ['JPY', 0.02, 165],
];
/** JPY has no minor unit: its amounts are whole yen. */
const minorUnitsPerMajor = (currency: Currency) => (currency === 'JPY' ? 1 : 100);
// Shop prices end in .99 mostly, sometimes .95, .49 or a round figure.
const endings = [99, 99, 99, 99, 95, 49, 0];

const monthsCovered = 18;
const dayMs = 86_400_000;

/** Returns product i of the catalogue; a pure function of i once built. */
function productGenerator({
  count,
  owners,
  now,
  seed,
}: Required<Omit<SeedProductsOptions, 'progress'>>): (index: number) => NewProductRow {
  const nowMs = now.getTime();
  const start = new Date(now);
  start.setUTCMonth(start.getUTCMonth() - monthsCovered);
  const spanMs = nowMs - start.getTime();
  const ownerWeights = cumulative(owners.map((_, k) => 1 / (k + 1)));
  const currencyWeights = cumulative(currencyMix.map(([, share]) => share));

  return (index) => {
    // A stream of its own, so product i comes out the same whichever products are generated.
    const random = seededRandom(mix32(seed ^ mix32(index)));
    const pick = <T>(list: readonly T[]): T => at(list, Math.floor(random() * list.length));
    const chance = (p: number) => random() < p;

    const category = pick(productCategories);
    const words = vocabularies[category];
    const [item, materials, sizes, low, high] = pick(words.items);
    const qualifiers = distinct(words.qualifiers, chance(0.7) ? (chance(0.15) ? 2 : 1) : 0, random);
    const material = materials !== '' && chance(0.5) ? pick(materials.split('|')) : undefined;
    const size = sizes !== '' && chance(0.5) ? pick(sizes.split('|')) : undefined;
    const colour = words.coloured && chance(0.35) ? pick(colours) : undefined;
    const kind = [...qualifiers, material, item].filter((word) => word !== undefined).join(' ');
    const name = [
      chance(0.6) ? pick(brands) : undefined,
      chance(0.2) ? pick(lines) : undefined,
      kind,
      size,
    ]
      .filter((word) => word !== undefined)
      .join(' ')
      .concat(colour === undefined ? '' : `, ${colour}`);

    // The item's own noun ("skillet") is the tag a shopper would most likely search for.
    const noun = item.split(' ').at(-1)?.toLowerCase() ?? '';
    const tagCount = 1 + Math.floor(random() * 5);
    const tags = /^[a-z]+$/.test(noun) && chance(0.7) ? [noun] : [];
    tags.push(
      ...distinct(
        words.tags.filter((tag) => tag !== noun),
        tagCount - tags.length,
        random,
      ),
    );

    const [first, second, third] = distinct(words.features, 3, random);
    const opening = chance(0.5)
      ? `${sentenceCase(kind)} with ${first} and ${second}.`
      : `Made for ${pick(words.uses)}: ${first}, ${second} and ${third}.`;
    const description = chance(0.6) ? `${opening} ${pick(closings)}` : opening;

    // Log-uniform within the item's range: many cheap products, a few dear ones.
    const euros = low * (high / low) ** random();
    const [currency, , rate] = at(currencyMix, bisect(currencyWeights, random()));
    const priceAmount =
      minorUnitsPerMajor(currency) === 1
        ? Math.max(100, Math.round((euros * rate) / 10) * 10)
        : Math.max(99, Math.floor(euros * rate) * 100 + pick(endings));

    // Index order is creation order, as seq follows time in a live table. The share of products per
    // month grows towards now, 40% spread evenly and 60% rising linearly: the index's quantile goes
    // through the inverse of F(t) = 0.4 t + 0.6 t^2, t the fraction of the span elapsed.
    const quantile = (index + random()) / count;
    const elapsed = (-0.4 + Math.sqrt(0.16 + 2.4 * quantile)) / 1.2;
    const createdAt = start.getTime() + Math.floor(elapsed * spanMs);
    const updatedAt = chance(0.6)
      ? createdAt
      : createdAt + Math.floor(random() ** 2 * (nowMs - createdAt));
    const deletedAt = chance(0.02)
      ? Math.min(nowMs, updatedAt + Math.floor(random() * 30 * dayMs))
      : undefined;

    return {
      id: productId(seed, index, random),
      ownerId: at(owners, bisect(ownerWeights, random())),
      name,
      description,
      category,
      priceAmount,
      priceCurrency: currency,
      stock: chance(0.08) ? 0 : 1 + Math.floor(500 * random() ** 2),
      tags,
      createdAt: new Date(createdAt),
      // A soft delete is the product's last change.
      updatedAt: new Date(deletedAt ?? updatedAt),
      deletedAt: deletedAt === undefined ? null : new Date(deletedAt),
    };
  };
}

// Two letters at least, so "C" in "Vitamin C" stays; "T-Shirt" still goes lower case.
const titleCaseWord = /^(?=[A-Za-z'-]{2})[A-Z][a-z']*(-[A-Za-z][a-z']*)*$/;

/**
 * "Pre-Seasoned Cast Iron Skillet" -> "Pre-seasoned cast iron skillet", for a name used in a
 * sentence; acronyms and model names ("USB-C", "D3", "Vitamin C") keep their capitals.
 */
function sentenceCase(text: string): string {
  const lowered = text
    .split(' ')
    .map((word) => (titleCaseWord.test(word) ? word.toLowerCase() : word))
    .join(' ');
  return lowered.charAt(0).toUpperCase() + lowered.slice(1);
}

/** For indexes computed within bounds, where `?? fallback` would be dead code. */
const at = <T>(list: readonly T[], index: number): T => list[index] as T;

/** Running totals of the weights, scaled to end at 1, for `bisect`. */
function cumulative(weights: readonly number[]): number[] {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let sum = 0;
  return weights.map((weight) => {
    sum += weight / total;
    return sum;
  });
}

/** The first index whose running total exceeds u, by bisection: owners may number thousands. */
function bisect(totals: readonly number[], u: number): number {
  let [low, high] = [0, totals.length - 1];
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (at(totals, middle) > u) high = middle;
    else low = middle + 1;
  }
  return low;
}

function distinct<T>(list: readonly T[], count: number, random: () => number): T[] {
  const pool = [...list];
  const chosen: T[] = [];
  while (chosen.length < count && pool.length > 0) {
    chosen.push(...pool.splice(Math.floor(random() * pool.length), 1));
  }
  return chosen;
}
