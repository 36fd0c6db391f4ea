/** /ari/bridges… (ari.md §1.2). */
import { ApiError, type Engine } from '../engine.ts';
import { noContent, ok, type Params, type Reply, type Router } from '../http.ts';

export function registerBridges(r: Router, engine: Engine): void {
  const bridges = engine.bridges;
  const id = (p: Params): string => p.str('bridgeId') ?? '';
  const create = (p: Params): Reply => ok(bridges.create(p.str('bridgeId'), p.str('type'), p.str('name')));

  r.add('GET', 'bridges', () => ok(bridges.list()))
    .add('POST', 'bridges', create)
    .add('POST', 'bridges/{bridgeId}', create)
    .add('GET', 'bridges/{bridgeId}', (p) => ok(bridges.get(id(p)).toJSON()))
    .add('DELETE', 'bridges/{bridgeId}', (p) => {
      bridges.destroy(bridges.get(id(p)));
      return noContent();
    })
    .add('POST', 'bridges/{bridgeId}/addChannel', (p) => {
      const b = bridges.get(id(p));
      bridges.add(b, bridges.controls(p.list('channel')));
      return noContent();
    })
    .add('POST', 'bridges/{bridgeId}/removeChannel', (p) => {
      const b = bridges.get(id(p));
      bridges.remove(b, bridges.controls(p.list('channel')));
      return noContent();
    })
    .add('POST', 'bridges/{bridgeId}/play', (p) => {
      const b = bridges.get(id(p));
      const media = p.list('media').filter(Boolean);
      if (!media.length) throw new ApiError(400, 'Missing parameter media');
      const body = engine.playbacks.playOnBridge(b, media, p.str('lang'), p.str('playbackId'));
      return { status: 201, body, headers: { Location: `/ari/playbacks/${encodeURIComponent(body.id)}` } };
    })
    .add('POST', 'bridges/{bridgeId}/moh', (p) => {
      bridges.get(id(p)).moh = true;
      return noContent();
    })
    .add('DELETE', 'bridges/{bridgeId}/moh', (p) => {
      bridges.get(id(p)).moh = false;
      return noContent();
    });
}
