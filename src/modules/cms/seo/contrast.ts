/**
 * WCAG 2.x contrast between two sRGB colours, used to refuse theme colours on which white header
 * text would be hard to read (success criterion 1.4.3: 4.5:1 for normal text).
 */

/** The smallest contrast ratio normal text needs (WCAG 2.2 SC 1.4.3, level AA). */
export const MIN_TEXT_CONTRAST = 4.5;

/** #RRGGBB → [r, g, b] in 0–255; null for anything else. */
export function parseHex(hex: string): [number, number, number] | null {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
  if (!m) return null;
  return [Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16), Number.parseInt(m[3]!, 16)];
}

/** Relative luminance (WCAG 2.x definition, sRGB). */
export function relativeLuminance(hex: string): number {
  const rgb = parseHex(hex);
  if (!rgb) throw new RangeError(`not a #RRGGBB colour: ${hex}`);
  const [r, g, b] = rgb.map((v) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * Contrast ratio between two colours, 1 to 21.
 * @example contrastRatio('#ffffff', '#0031d8') // ≈ 8.6
 */
export function contrastRatio(a: string, b: string): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  const [hi, lo] = la > lb ? [la, lb] : [lb, la];
  return (hi + 0.05) / (lo + 0.05);
}

const WHITE = '#ffffff';
const BLACK = '#000000';

/**
 * The text colour for a bar painted in `background`: white when it reaches 4.5:1, else whichever
 * of white and black reads better (for any colour one of them reaches at least 4.58:1), so a
 * colour stored before the check existed still gets readable text.
 */
export function textColourOn(background: string): string {
  const white = contrastRatio(WHITE, background);
  return white >= MIN_TEXT_CONTRAST || white >= contrastRatio(BLACK, background) ? WHITE : BLACK;
}
