// esbuild inlines images the map client imports as data: URLs (see map-bundle.ts).
declare module '*.png' {
  const url: string;
  export default url;
}
