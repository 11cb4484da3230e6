import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { inspectUpload } from './files.js';
import { processImage } from './images.js';

/**
 * Upload benchmark: the work one image upload does before anything is written — sniffing, the
 * polyglot scan, EXIF removal and every width in the original format and WebP — for phone-camera
 * photo sizes. Prints milliseconds per image (median of `runs`) and the bytes produced.
 * @example
 * node --import tsx -e "import('./src/modules/cms/media/bench.ts').then(m => m.benchUpload())"
 */
export async function benchUpload(runs = 5): Promise<Array<{ size: string; inputKB: number; medianMs: number; variants: number; outputKB: number }>> {
  const out = [];
  for (const [w, h] of [[1600, 1200], [4032, 3024]] as const) {
    // Softened noise compresses about as a phone photograph does (a flat colour would flatter the encoders).
    const noise = await sharp({ create: { width: w, height: h, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 50 } } }).png().toBuffer();
    const photo = await sharp(noise)
      .blur(1.2)
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 88 })
      .toBuffer();
    const times: number[] = [];
    let last: Awaited<ReturnType<typeof processImage>> | null = null;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const { type } = await inspectUpload('photo.jpg', 'image/jpeg', photo);
      last = await processImage(photo, type);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    out.push({
      size: `${w}×${h}`,
      inputKB: Math.round(photo.length / 1024),
      medianMs: Math.round(times[Math.floor(times.length / 2)]!),
      variants: last!.variants.length,
      outputKB: Math.round(last!.variants.reduce((n, v) => n + v.bytes, 0) / 1024),
    });
  }
  console.table(out);
  return out;
}
