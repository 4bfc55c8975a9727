import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerMessage } from '../js/protocol.js';

test('the server stats message parses as documented, with nulls until known', () => {
  const doc = '{"type":"stats","bitrate_in":812000,"bitrate_out":1604000,"loss_in":0.0,"loss_out":0.01,"rtt_ms":23,"transport":"udp","server_port":10004}';
  assert.deepEqual(parseServerMessage(doc), {
    type: 'stats', bitrate_in: 812000, bitrate_out: 1604000, loss_in: 0, loss_out: 0.01,
    rtt_ms: 23, transport: 'udp', server_port: 10004,
  });
  const early = parseServerMessage('{"type":"stats","bitrate_in":0,"bitrate_out":0,"loss_in":null,"loss_out":null,"rtt_ms":null,"transport":null,"server_port":null}');
  assert.equal(early?.type, 'stats');
  assert.equal(parseServerMessage('{"type":"stats","bitrate_in":"fast","bitrate_out":0}'), null);
});
