import { describe, expect, it } from 'vitest';
import { contrastRatio, parseHex, relativeLuminance, textColourOn } from './contrast.js';

describe('WCAG contrast for theme colours', () => {
  it('computes the ratios WCAG 2.x defines', () => {
    expect(contrastRatio('#ffffff', '#000000')).toBeCloseTo(21, 5);
    expect(contrastRatio('#ffffff', '#ffffff')).toBeCloseTo(1, 5);
    // The well-known boundary greys: #767676 passes 4.5:1 on white, #777777 does not.
    expect(contrastRatio('#ffffff', '#767676')).toBeCloseTo(4.54, 2);
    expect(contrastRatio('#ffffff', '#777777')).toBeCloseTo(4.48, 2);
    expect(contrastRatio('#0031d8', '#ffffff')).toBeCloseTo(contrastRatio('#ffffff', '#0031d8'), 10);
    expect(relativeLuminance('#FF0000')).toBeCloseTo(0.2126, 4);
  });

  it('reads only #RRGGBB', () => {
    expect(parseHex('#0031d8')).toEqual([0, 49, 216]);
    for (const bad of ['0031d8', '#031', '#0031d8ff', 'blue', '#gg0000']) expect(parseHex(bad)).toBeNull();
    expect(() => relativeLuminance('blue')).toThrow(RangeError);
  });

  it('keeps header text readable: white on dark colours, black on light ones', () => {
    expect(textColourOn('#0031d8')).toBe('#ffffff');
    expect(textColourOn('#ffcc00')).toBe('#000000');
    for (const bg of ['#0031d8', '#ffcc00', '#767676', '#777777', '#00a3bf']) expect(contrastRatio(textColourOn(bg), bg)).toBeGreaterThanOrEqual(4.5);
  });
});
