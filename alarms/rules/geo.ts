/**
 * Geometry for geofences, in metres. Distances to borders use a local equirectangular projection
 * around the point, which is accurate enough for fences of a few kilometres (not across the antimeridian).
 */

export interface LatLon {
  lat: number;
  lon: number;
}

export type FenceShape =
  | { type: 'circle'; center: LatLon; radiusM: number }
  | { type: 'polygon'; points: LatLon[] };

/** Mean Earth radius (m). */
export const EARTH_RADIUS_M = 6_371_008.8;

const rad = (d: number): number => (d * Math.PI) / 180;

/** Great-circle distance in metres. */
export function haversineM(a: LatLon, b: LatLon): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Distance from the circle's border: positive outside, negative inside, metres. */
export function signedDistanceToCircleM(p: LatLon, center: LatLon, radiusM: number): number {
  return haversineM(p, center) - radiusM;
}

/** Ray casting on lat/lon (fine for small polygons). Points exactly on an edge may go either way. */
export function pointInPolygon(p: LatLon, points: readonly LatLon[]): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const a = points[i]!;
    const b = points[j]!;
    if (a.lat > p.lat !== b.lat > p.lat) {
      const lonAtLat = ((b.lon - a.lon) * (p.lat - a.lat)) / (b.lat - a.lat) + a.lon;
      if (p.lon < lonAtLat) inside = !inside;
    }
  }
  return inside;
}

/** Shortest distance (m) from p to any edge of the polygon (closed ring; the last point joins the first). */
export function distanceToPolygonEdgesM(p: LatLon, points: readonly LatLon[]): number {
  const k = rad(1) * EARTH_RADIUS_M;
  const cosLat = Math.cos(rad(p.lat));
  // project each vertex to metres relative to p
  const xy = points.map((q) => ({ x: (q.lon - p.lon) * k * cosLat, y: (q.lat - p.lat) * k }));
  let best = Infinity;
  for (let i = 0; i < xy.length; i++) {
    const a = xy[i]!;
    const b = xy[(i + 1) % xy.length]!;
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len2 = dx * dx + dy * dy;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(a.x * dx + a.y * dy) / len2));
    best = Math.min(best, Math.hypot(a.x + t * dx, a.y + t * dy));
  }
  return best;
}

/** Distance from the polygon's border: positive outside, negative inside, metres. */
export function signedDistanceToPolygonM(p: LatLon, points: readonly LatLon[]): number {
  const d = distanceToPolygonEdgesM(p, points);
  return pointInPolygon(p, points) ? -d : d;
}

/** Distance from a fence shape's border: positive outside, negative inside, metres. */
export function signedDistanceM(p: LatLon, shape: FenceShape): number {
  return shape.type === 'circle'
    ? signedDistanceToCircleM(p, shape.center, shape.radiusM)
    : signedDistanceToPolygonM(p, shape.points);
}
