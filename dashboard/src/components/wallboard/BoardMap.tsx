/**
 * The wall's map (老年人地图): open alarms as markers over where elders live as a density layer (translucent dots,
 * larger and denser where more homes share a ~100 m point). Positions come rounded from the server; no names.
 * As in ElderMap: no HTML strings to Leaflet (tooltips are DOM text), tiles from the config, a plain grid without.
 */
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useRef } from 'preact/hooks';
import { label, t } from '../../i18n';
import { useStore } from '../../store';
import type { Board, BoardAlarm } from '../../wallboard';

const PRI_COLOUR: Record<number, string> = { 1: '#ff4d4f', 2: '#ffa940', 3: '#fadb14' };

export function BoardMap({ alarms, elders }: { alarms: BoardAlarm[]; elders: Board['elders'] }) {
  const box = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.LayerGroup | null>(null);
  const tileUrl = useStore((s) => s.config.mapTileUrl);
  const credit = useStore((s) => s.config.mapTileAttribution);
  const locale = useStore((s) => s.locale);
  const placed = alarms.filter((a) => a.lat !== null && a.lon !== null);
  const homes = elders.reduce((n, p) => n + p.n, 0);

  useEffect(() => {
    if (!box.current) return;
    const m = L.map(box.current, { zoomControl: false, attributionControl: false, zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false, inertia: false }).setView([35, 105], 4);
    if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(m);
    layer.current = L.layerGroup().addTo(m);
    map.current = m;
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

  // Reframe only when the set of points changes, not on every reload (a supervisor may have zoomed in).
  const frameKey = `${elders.length}:${placed.map((a) => a.id).join(',')}`;
  const framed = useRef('');
  useEffect(() => {
    const m = map.current;
    const g = layer.current;
    if (!m || !g) return;
    g.clearLayers();
    const pts: L.LatLngTuple[] = [];
    for (const p of elders) {
      L.circleMarker([p.lat, p.lon], { radius: 7 + 4 * Math.sqrt(p.n), stroke: false, fillColor: '#4fc3f7', fillOpacity: Math.min(0.7, 0.3 + 0.08 * p.n), interactive: false, className: 'wb-density' }).addTo(g);
      pts.push([p.lat, p.lon]);
    }
    for (const a of placed) {
      L.circleMarker([a.lat!, a.lon!], { radius: a.priority === 1 ? 13 : 10, color: '#ffffff', weight: 3, fillColor: PRI_COLOUR[a.priority] ?? '#bfbfbf', fillOpacity: 1, className: `wb-alarm-marker p${a.priority}` })
        .bindTooltip(text(`${label('kind', a.kind)} ${a.elderName ?? ''}`.trim()), { permanent: a.priority === 1, direction: 'top', offset: [0, -10], className: 'wb-map-tip' })
        .addTo(g);
      pts.push([a.lat!, a.lon!]);
    }
    if (framed.current === frameKey) return;
    framed.current = frameKey;
    // room above for the P1 labels, below for the legend
    if (pts.length === 1) m.setView(pts[0]!, 15, { animate: false });
    else if (pts.length > 1) m.fitBounds(L.latLngBounds(pts), { paddingTopLeft: [40, 70], paddingBottomRight: [40, 60], maxZoom: 15, animate: false });
  }, [alarms, elders, locale, tileUrl]);

  return (
    <div class={`wb-map-wrap ${tileUrl ? '' : 'no-tiles'}`} data-testid="wb-map">
      <div ref={box} class="wb-map" />
      <div class="wb-legend" data-testid="wb-map-legend">
        <span>
          <i class="dot alarm" />
          {t('wallboard.mapAlarms', { n: placed.length })}
        </span>
        <span>
          <i class="dot elder" />
          {t('wallboard.mapElders', { n: homes })}
        </span>
      </div>
      {tileUrl && credit && <span class="wb-credit">{credit}</span>}
    </div>
  );
}

/** A label as a DOM text node: Leaflet gets an element, never an HTML string built from data. */
function text(s: string): HTMLElement {
  const el = document.createElement('span');
  el.textContent = s;
  return el;
}
