/** URL of the start-up basemap's GeoJSON (land and borders), made at build time (vite.config.ts). */
declare module 'virtual:basemap' {
  export const BASEMAP_URL: string;
}
