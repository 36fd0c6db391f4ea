/**
 * The map of the elder's file for editing: the home marker, the geofences, the shape being drawn, and a click that
 * the parent turns into a home position or a shape's point. A circle being edited has a handle on its edge that
 * sets the radius by dragging. As in ElderMap.tsx: no tiles configured still gives a working map (a plain grid),
 * and Leaflet gets DOM elements whose text is set with textContent, never an HTML string.
 */
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../../i18n';
import { useStore } from '../../store';
import type { Geofence, LatLon } from '../../types';

export type Shape = Geofence['shape'];

export interface EditMapProps {
  home: LatLon | null;
  fences: Geofence[];
  selectedId?: string | null;
  /** the shape being drawn (a circle's centre set, or a polygon's points so far) */
  draft?: Shape | null;
  onClick?: (p: LatLon) => void;
  /** the circle whose edge handle is shown, and what a drag of it sets */
  onRadius?: (radiusM: number) => void;
  testid: string;
}

const DEFAULT_VIEW: [number, number] = [35, 105];

export function EditMap(p: EditMapProps) {
  const tileUrl = useStore((s) => s.config.mapTileUrl);
  const box = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.LayerGroup | null>(null);
  const props = useRef(p);
  props.current = p;
  const framed = useRef(false);

  useEffect(() => {
    if (!box.current) return;
    const m = L.map(box.current, { zoomControl: true, attributionControl: false, zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false, inertia: false, doubleClickZoom: false }).setView(DEFAULT_VIEW, 4);
    if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(m);
    L.control.scale({ imperial: false }).addTo(m);
    layer.current = L.layerGroup().addTo(m);
    map.current = m;
    framed.current = false;
    m.on('click', (e: L.LeafletMouseEvent) => props.current.onClick?.({ lat: round(e.latlng.lat), lon: round(e.latlng.lng) }));
    const ro = new ResizeObserver(() => m.invalidateSize({ animate: false }));
    ro.observe(box.current);
    return () => {
      ro.disconnect();
      m.stop();
      m.off();
      m.remove();
      map.current = null;
      layer.current = null;
    };
  }, [tileUrl]);

  useEffect(() => {
    const m = map.current;
    const g = layer.current;
    if (!m || !g) return;
    g.clearLayers();
    const pts: L.LatLngExpression[] = [];
    let active: L.Layer | null = null;
    for (const f of p.fences) {
      const on = f.id === p.selectedId;
      const style = { color: on ? '#0d47a1' : '#2e7d32', weight: on ? 3 : 2, dashArray: on ? undefined : '6 4', fillOpacity: on ? 0.15 : 0.06 };
      const l = drawShape(g, f.shape, { ...style, className: 'map-fence' }, f.name || t('map.geofence'), pts);
      if (on && !p.draft) active = l;
    }
    if (p.draft) active = drawShape(g, p.draft, { color: '#e65100', weight: 3, fillOpacity: 0.12, className: 'map-draft' }, t('elders.fence.drawing'), pts);
    if (p.draft?.type === 'polygon') for (const q of p.draft.points) L.circleMarker([q.lat, q.lon], { radius: 5, color: '#e65100', weight: 2, fillOpacity: 1, className: 'map-draft-point' }).addTo(g);
    const circle = p.onRadius ? activeCircle(p) : null;
    if (circle) {
      const c = L.latLng(circle.center.lat, circle.center.lon);
      const edge = L.latLng(c.lat, c.lng + metresToLon(circle.radiusM, c.lat));
      const handle = L.marker(edge, { draggable: true, icon: L.divIcon({ className: 'fence-handle', html: document.createElement('span'), iconSize: [16, 16], iconAnchor: [8, 8] }), title: t('elders.fence.dragRadius') });
      const radius = () => Math.max(1, Math.round(c.distanceTo(handle.getLatLng())));
      // while dragging only the drawn circle follows (a redraw would drop the handle under the pointer); the value on release
      handle.on('drag', () => active instanceof L.Circle && active.setRadius(radius()));
      handle.on('dragend', () => props.current.onRadius?.(radius()));
      handle.addTo(g);
    }
    if (p.home) {
      L.marker([p.home.lat, p.home.lon], { icon: L.divIcon({ className: 'map-home', html: text(t('map.home')), iconSize: [48, 22], iconAnchor: [24, 11] }), interactive: false }).addTo(g);
      pts.push([p.home.lat, p.home.lon]);
    }
    // frame what there is once; later edits keep the view where the user put it
    if (!framed.current && pts.length) {
      framed.current = true;
      if (pts.length === 1) m.setView(pts[0]!, 16, { animate: false });
      else m.fitBounds(L.latLngBounds(pts as L.LatLngTuple[]), { padding: [24, 24], maxZoom: 17, animate: false });
    }
  }, [p.home?.lat, p.home?.lon, p.fences, p.selectedId, p.draft, !!p.onRadius]);

  /** A home set far out (the country view) zooms in on it, so the next clicks are precise. */
  useEffect(() => {
    const m = map.current;
    if (m && p.home && m.getZoom() < 12) {
      framed.current = true;
      m.setView([p.home.lat, p.home.lon], 16, { animate: false });
    }
  }, [p.home?.lat, p.home?.lon]);

  return (
    <div class={`map-wrap elders-map ${tileUrl ? '' : 'no-tiles'}`} data-testid={p.testid}>
      <div ref={box} class="map" />
      {!tileUrl && <span class="map-note">{t('map.noTiles')}</span>}
    </div>
  );
}

function activeCircle(p: EditMapProps): { center: LatLon; radiusM: number } | null {
  if (p.draft?.type === 'circle') return p.draft;
  const f = p.fences.find((x) => x.id === p.selectedId);
  return f?.shape.type === 'circle' ? f.shape : null;
}

function drawShape(g: L.LayerGroup, s: Shape, style: L.PathOptions, name: string, pts: L.LatLngExpression[]): L.Layer | null {
  if (s.type === 'circle') {
    const c = L.latLng(s.center.lat, s.center.lon);
    const b = c.toBounds(s.radiusM * 2);
    pts.push(b.getNorthEast(), b.getSouthWest());
    return L.circle(c, { ...style, radius: s.radiusM }).bindTooltip(text(name), TIP).addTo(g);
  }
  if (!s.points.length) return null;
  const ll = s.points.map((q) => [q.lat, q.lon] as [number, number]);
  pts.push(...ll);
  return (ll.length >= 3 ? L.polygon(ll, style) : L.polyline(ll, style)).bindTooltip(text(name), TIP).addTo(g);
}

const TIP: L.TooltipOptions = { className: 'map-fence-label', sticky: true };
const round = (v: number) => Math.round(v * 1e6) / 1e6;
const metresToLon = (m: number, lat: number) => m / (111_320 * Math.cos((lat * Math.PI) / 180));

/** A label as a DOM text node in a span: Leaflet gets an element, never an HTML string built from data. */
function text(s: string): HTMLElement {
  const el = document.createElement('span');
  el.textContent = s;
  return el;
}
