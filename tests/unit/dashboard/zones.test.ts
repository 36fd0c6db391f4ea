/** The name of an alarm's zone, from the panel's registration (devices.meta.zoneNames). */
import { describe, expect, it } from 'vitest';
import { zoneNameOf } from '../../../dashboard/src/zones.ts';

const panel = { id: 7, meta: { vendor: 'climax', zoneNames: { '003': '厨房烟感', '005': '<img src=x>卫生间拉绳' } } };

describe('zoneNameOf', () => {
  it('names the zone on the device that raised the alarm', () => {
    expect(zoneNameOf({ zone: '003', deviceId: 7 }, [panel])).toBe('厨房烟感');
    expect(zoneNameOf({ zone: '005', deviceId: 7 }, [panel])).toBe('<img src=x>卫生间拉绳'); // text; the screen renders it as text
  });

  it('says nothing for an unnamed zone, another device, no zone, or a hostile key', () => {
    expect(zoneNameOf({ zone: '004', deviceId: 7 }, [panel])).toBeUndefined();
    expect(zoneNameOf({ zone: '003', deviceId: 8 }, [panel])).toBeUndefined();
    expect(zoneNameOf({ zone: null, deviceId: 7 }, [panel])).toBeUndefined();
    expect(zoneNameOf({ zone: 'toString', deviceId: 7 }, [panel])).toBeUndefined();
    expect(zoneNameOf({ zone: '003', deviceId: 7 }, [{ id: 7, meta: { zoneNames: ['x'] } }])).toBeUndefined();
    expect(zoneNameOf(undefined, [panel])).toBeUndefined();
  });
});
