import { describe, expect, it } from 'vitest';
import { endSource, requestSource, requestSourceOf, runInSource, sourceTracking } from '../../../gateway/request-context.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('request context (the audit log\'s "from where")', () => {
  it('follows a request through its awaits, and is switched off once no request is in flight', async () => {
    const a = requestSourceOf('10.0.0.1', 'agent-a');
    const b = requestSourceOf('10.0.0.2', 'agent-b');
    const seen: (string | null | undefined)[] = [];
    let resumeA!: () => void;
    const aWaits = new Promise<void>((r) => (resumeA = r));
    let aDone!: Promise<void>;
    runInSource(a, () => {
      aDone = (async () => {
        await aWaits;
        seen.push(requestSource()?.ip);
      })();
    });
    let bDone!: Promise<void>;
    runInSource(b, () => {
      bDone = (async () => {
        await tick();
        seen.push(requestSource()?.ip);
      })();
    });
    expect(sourceTracking()).toBe(true);
    await bDone;
    endSource(b);
    endSource(b); // 'close' after onResponse: counted once
    expect(sourceTracking()).toBe(true); // a is still being answered
    resumeA();
    await aDone;
    endSource(a);
    expect(sourceTracking()).toBe(false);
    expect(seen).toEqual(['10.0.0.2', '10.0.0.1']);
    expect(requestSource()).toBeUndefined();
  });

  it('work a request set off that runs after its answer finds no source, and the next request has its own', async () => {
    const a = requestSourceOf('10.0.0.3', undefined);
    let later!: Promise<string | null | undefined>;
    runInSource(a, () => {
      later = (async () => {
        await tick();
        await tick();
        return requestSource()?.ip;
      })();
    });
    endSource(a);
    expect(await later).toBeUndefined();
    const c = requestSourceOf('10.0.0.4', 'x'.repeat(400));
    let got: ReturnType<typeof requestSource>;
    await new Promise<void>((done) =>
      runInSource(c, () => {
        void (async () => {
          await tick();
          got = requestSource();
          done();
        })();
      }),
    );
    endSource(c);
    expect(got!.ip).toBe('10.0.0.4');
    expect(got!.userAgent).toHaveLength(300);
    expect(sourceTracking()).toBe(false);
  });
});
