/** URLs of the start-up basemap's GeoJSON files, made at build time (vite.config.ts). */
declare module 'virtual:basemap' {
  export const LAND_URL: string;
  export const BORDERS_URL: string;
}
