/**
 * The elder's map: last position, the last hour's track, home, geofences. Tiles come from the configured URL;
 * without one (an offline centre) the map still draws everything on a plain grid.
 *
 * No HTML strings go to Leaflet (issue 15): tooltips and icons get DOM elements whose text is set with
 * textContent, and the tile credit is shown by us as text instead of Leaflet's attribution control (which sets
 * innerHTML). tests/unit/dashboard/html-sinks.test.ts keeps it so.
 */
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n';
import { useStore } from '../store';
import type { Geofence, LatLon } from '../types';

export interface MapData {
  home: LatLon | null;
  last: (LatLon & { label: string }) | null;
  track: [number, number][];
  geofences: Geofence[];
}

export function ElderMap({ data, tileUrl, credit }: { data: MapData; tileUrl?: string; credit?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const layer = useRef<L.LayerGroup | null>(null);
  // Labels are in the locale: redraw them at once on a language switch.
  const locale = useStore((s) => s.locale);

  useEffect(() => {
    if (!box.current) return;
    // No animations: a map removed mid-animation (the file closed or replaced) throws inside Leaflet.
    const m = L.map(box.current, { zoomControl: true, attributionControl: false, zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false, inertia: false }).setView([35, 105], 4);
    if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(m);
    L.control.scale({ imperial: false }).addTo(m);
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

  useEffect(() => {
    const m = map.current;
    const g = layer.current;
    if (!m || !g) return;
    g.clearLayers();
    // The view fits the positions (last, track, home); geofences are drawn but only framed when nothing else is.
    const bounds: L.LatLngExpression[] = [];
    const fenceBounds: L.LatLngExpression[] = [];
    for (const f of data.geofences) {
      const style = { color: '#2e7d32', weight: 2, dashArray: '6 4', fillOpacity: 0.06 };
      if (f.shape.type === 'circle') {
        const center = L.latLng(f.shape.center.lat, f.shape.center.lon);
        L.circle(center, { ...style, radius: f.shape.radiusM, className: 'map-fence' }).bindTooltip(text(f.name || t('map.geofence')), FENCE_TIP).addTo(g);
        // From the centre and radius: a circle's own getBounds() needs the map to have been laid out.
        const b = center.toBounds(f.shape.radiusM * 2);
        fenceBounds.push(b.getNorthEast(), b.getSouthWest());
      } else {
        const pts = f.shape.points.map((p) => [p.lat, p.lon] as [number, number]);
        L.polygon(pts, { ...style, className: 'map-fence' }).bindTooltip(text(f.name || t('map.geofence')), FENCE_TIP).addTo(g);
        fenceBounds.push(...pts);
      }
    }
    if (data.track.length > 1) {
      L.polyline(data.track, { color: '#1565c0', weight: 4, opacity: 0.8, className: 'map-track' }).addTo(g);
      bounds.push(...data.track);
    }
    for (const p of data.track) L.circleMarker(p, { radius: 3, color: '#1565c0', weight: 1, fillOpacity: 0.9 }).addTo(g);
    if (data.home) {
      L.marker([data.home.lat, data.home.lon], { icon: L.divIcon({ className: 'map-home', html: text(t('map.home')), iconSize: [48, 22], iconAnchor: [24, 11] }) })
        .bindTooltip(text(t('map.home')))
        .addTo(g);
      bounds.push([data.home.lat, data.home.lon]);
    }
    if (data.last) {
      L.marker([data.last.lat, data.last.lon], { icon: L.divIcon({ className: 'map-last', html: document.createElement('span'), iconSize: [22, 22], iconAnchor: [11, 11] }), zIndexOffset: 1000 })
        .bindTooltip(text(data.last.label), { permanent: true, direction: 'top', offset: [0, -12], className: 'map-last-label' })
        .addTo(g);
      bounds.push([data.last.lat, data.last.lon]);
    }
    if (!bounds.length) bounds.push(...fenceBounds);
    if (bounds.length === 1) m.setView(bounds[0]!, 16, { animate: false });
    else if (bounds.length > 1) m.fitBounds(L.latLngBounds(bounds as L.LatLngTuple[]), { padding: [28, 28], maxZoom: 17, animate: false });
    else m.setView([35, 105], 4, { animate: false });
  }, [data, locale]);

  const empty = !data.last && !data.home && data.track.length === 0 && data.geofences.length === 0;
  return (
    <div class={`map-wrap ${tileUrl ? '' : 'no-tiles'}`} data-testid="elder-map">
      <div ref={box} class="map" />
      {!tileUrl && <span class="map-note">{t('map.noTiles')}</span>}
      {tileUrl && credit && (
        <span class="map-credit" title={credit}>
          {credit}
        </span>
      )}
      {empty && <span class="map-empty">{t('map.noPosition')}</span>}
    </div>
  );
}

/** Geofence names are typed by installers and may be long: the tooltip wraps and is cut after a few lines. */
const FENCE_TIP: L.TooltipOptions = { className: 'map-fence-label', sticky: true };

/** A label as a DOM text node in a span: Leaflet gets an element, never an HTML string built from data. */
function text(s: string): HTMLElement {
  const el = document.createElement('span');
  el.textContent = s;
  return el;
}
