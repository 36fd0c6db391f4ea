/**
 * Hold (保持): the party moves out of the call's mixing bridge into the call's holding bridge, which plays
 * music on hold (POST /bridges/{id}/moh; musiconhold.conf class `default`). Moving the party rather than
 * starting channel MOH in the mixing bridge keeps the agent free: alone in the mixing bridge, or off to a
 * consultation bridge (attended transfer). A real Asterisk sends only ChannelLeftBridge / ChannelEnteredBridge
 * for the move and nothing for the MOH (captured on 22.10.1, tests/helpers/ari-scenarios-controls.ts).
 * Unhold moves it back (addChannel moves a channel that is in another bridge).
 */
import type { ControlledCall } from './call.ts';
import type { ControlDeps } from './deps.ts';

export async function holdLeg(d: ControlDeps, call: ControlledCall, channelId: string): Promise<boolean> {
  if (call.held.has(channelId)) return false;
  let fresh = false;
  if (!call.holdBridgeId) {
    const bridgeId = `${call.id}-hold`;
    await d.adapter.createBridge({ bridgeId, type: 'holding', name: `${call.id} hold` });
    call.holdBridgeId = bridgeId;
    fresh = true;
  }
  await d.adapter.addToBridge(call.holdBridgeId, [channelId]);
  call.held.add(channelId);
  if (fresh) await d.adapter.bridgeMoh(call.holdBridgeId, true);
  return true;
}

/** Back into `bridgeId` (default the call's mixing bridge). */
export async function unholdLeg(d: ControlDeps, call: ControlledCall, channelId: string, bridgeId = call.bridgeId): Promise<boolean> {
  if (!call.held.has(channelId)) return false;
  await d.adapter.addToBridge(bridgeId, [channelId]);
  call.held.delete(channelId);
  return true;
}
