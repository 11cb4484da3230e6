import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import type { MediaVariant } from './schema.js';
import { UploadRefused, type FileTypeDef } from './files.js';

/** Widths made for every image narrower than the original (never enlarged); 2400 covers the body column on 2× screens. */
export const VARIANT_WIDTHS = [480, 960, 1600, 2400];

/** No WebP is made of a larger original: nobody's page needs it, and encoding it takes seconds. */
export const WEBP_MAX_WIDTH = 2400;

/** Larger images are refused: decoding them would take too much memory (decompression bombs). */
export const MAX_PIXELS = 60_000_000;

export interface ProcessedImage {
  width: number;
  height: number;
  variants: Array<MediaVariant & { data: Buffer }>;
}

function encode(pipeline: Sharp, mime: string): Sharp {
  switch (mime) {
    case 'image/jpeg':
      return pipeline.jpeg({ quality: 85, progressive: true });
    case 'image/png':
      return pipeline.png();
    case 'image/gif':
      return pipeline.gif();
    default:
      return pipeline.webp({ quality: 80, effort: 2 });
  }
}

/**
 * Decodes an uploaded image and makes what is served: the original size turned upright by its
 * EXIF orientation with every piece of metadata removed (GPS position, camera, owner), and smaller
 * widths, each in the original format and in WebP. Throws UploadRefused for images too large to
 * decode or that cannot be read.
 */
export async function processImage(data: Uint8Array, type: FileTypeDef): Promise<ProcessedImage> {
  const animated = type.mime === 'image/gif' || type.mime === 'image/webp';
  const options = { animated, limitInputPixels: MAX_PIXELS, failOn: 'error' as const };
  let meta: Metadata;
  try {
    // The header only: the pixel limit is checked below, with a message saying so.
    meta = await sharp(data, { ...options, limitInputPixels: false }).metadata();
  } catch {
    throw new UploadRefused('画像を読み込めませんでした。ファイルが壊れていないか確かめてください。');
  }
  const frames = meta.pages ?? 1;
  const rawWidth = meta.width ?? 0;
  const rawHeight = meta.pageHeight ?? meta.height ?? 0;
  if (!rawWidth || !rawHeight) throw new UploadRefused('画像の大きさを読み取れませんでした。');
  if (rawWidth * rawHeight * frames > MAX_PIXELS) {
    throw new UploadRefused(`画像の画素数が大きすぎます（${Math.round((rawWidth * rawHeight * frames) / 10000)}万画素）。${MAX_PIXELS / 10000}万画素以下に縮小してから登録してください。`);
  }
  // Orientations 5–8 are quarter turns: the upright image is the other way round.
  const turned = frames === 1 && (meta.orientation ?? 1) >= 5;
  const width = turned ? rawHeight : rawWidth;
  const height = turned ? rawWidth : rawHeight;
  // A still image is decoded (and turned upright) once; every output starts from those pixels.
  let upright: () => Sharp;
  if (frames === 1) {
    let decoded: { data: Buffer; info: OutputInfo };
    try {
      decoded = await sharp(data, options).rotate().raw().toBuffer({ resolveWithObject: true });
    } catch {
      throw new UploadRefused('画像を読み込めませんでした。ファイルが壊れていないか確かめてください。');
    }
    const raw = { width: decoded.info.width, height: decoded.info.height, channels: decoded.info.channels };
    upright = () => sharp(decoded.data, { raw });
  } else {
    upright = () => sharp(data, options);
  }

  const sizes = [...VARIANT_WIDTHS.filter((w) => w < width), width];
  const jobs: Array<{ key: string; mime: string; size: number }> = [];
  for (const size of sizes) {
    const base = size === width ? 'original' : String(size);
    jobs.push({ key: base, mime: type.mime, size });
    if (type.mime !== 'image/webp' && size <= WEBP_MAX_WIDTH) jobs.push({ key: `${base}-webp`, mime: 'image/webp', size });
  }
  try {
    const variants = await Promise.all(
      jobs.map(async (j) => {
        const resized = j.size === width ? upright() : upright().resize({ width: j.size, withoutEnlargement: true });
        const { data: out, info } = await encode(resized, j.mime).toBuffer({ resolveWithObject: true });
        const h = info.pageHeight ?? info.height;
        return { key: j.key, mime: j.mime, width: info.width, height: h, bytes: out.length, data: out };
      }),
    );
    return { width, height, variants };
  } catch {
    throw new UploadRefused('画像を変換できませんでした。ファイルが壊れていないか確かめてください。');
  }
}
