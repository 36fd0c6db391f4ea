/**
 * A station's position, picked on a map: a click sets it. As in EditMap.tsx: no tiles configured still gives a
 * working map (a plain grid), and Leaflet gets DOM elements whose text is set with textContent, never HTML.
 */
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../../i18n';
import { useStore } from '../../store';
import type { LatLon } from '../../types';

const DEFAULT_VIEW: [number, number] = [35, 105];

export function StationMap({ pos, name, onPick, testid }: { pos: LatLon | null; name: string; onPick: (p: LatLon) => void; testid: string }) {
  const tileUrl = useStore((s) => s.config.mapTileUrl);
  const box = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.LayerGroup | null>(null);
  const pick = useRef(onPick);
  pick.current = onPick;

  useEffect(() => {
    if (!box.current) return;
    const m = L.map(box.current, { zoomControl: true, attributionControl: false, zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false, inertia: false, doubleClickZoom: false }).setView(pos ? [pos.lat, pos.lon] : DEFAULT_VIEW, pos ? 16 : 4);
    if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(m);
    L.control.scale({ imperial: false }).addTo(m);
    layer.current = L.layerGroup().addTo(m);
    map.current = m;
    m.on('click', (e: L.LeafletMouseEvent) => pick.current({ lat: round(e.latlng.lat), lon: round(e.latlng.lng) }));
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
    if (!pos) return;
    L.marker([pos.lat, pos.lon], { icon: L.divIcon({ className: 'map-station', html: text(name || t('stations.marker')), iconSize: [96, 22], iconAnchor: [48, 11] }), interactive: false }).addTo(g);
    // a position set from the country view zooms in on it, so the next click is precise
    if (m.getZoom() < 12) m.setView([pos.lat, pos.lon], 16, { animate: false });
  }, [pos?.lat, pos?.lon, name]);

  return (
    <div class={`map-wrap station-map ${tileUrl ? '' : 'no-tiles'}`} data-testid={testid}>
      <div ref={box} class="map" />
      {!tileUrl && <span class="map-note">{t('map.noTiles')}</span>}
    </div>
  );
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;

/** A label as a DOM text node in a span: Leaflet gets an element, never an HTML string built from data. */
function text(s: string): HTMLElement {
  const el = document.createElement('span');
  el.textContent = s;
  return el;
}
