import { createHash } from 'node:crypto';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys';
import { gossipsub, StrictNoSign, TopicValidatorResult } from '@libp2p/gossipsub';
import { createTopicScoreParams, type TopicScoreParams } from '@libp2p/gossipsub/score';
import { identify } from '@libp2p/identify';
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey, peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { Uint8ArrayList } from 'uint8arraylist';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { P2PError } from './errors.js';
import { DEFAULT_SCORING, type ScoringOptions, StrikeBook } from './scoring.js';

export type Topic = 'tx' | 'consensus' | 'block';
export const TOPICS: readonly Topic[] = ['tx', 'consensus', 'block'];
export type Verdict = 'accept' | 'reject' | 'ignore';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFn = (level: LogLevel, msg: string, data?: Record<string, unknown>) => void;

/**
 * A gossip message's handler; `from` is the relaying neighbour (the peer the message came from, whom
 * a `reject` penalises). Messages carry no publisher signature (see `globalSignaturePolicy`).
 */
export type GossipHandler = (data: Uint8Array, from: string) => Verdict | Promise<Verdict>;
export type RequestHandler = (req: Uint8Array, from: string) => Promise<Uint8Array>;

export interface GossipTuning {
  /** Mesh degree and its bounds (gossipsub D / Dlo / Dhi). Default 4 / 3 / 8 (small validator sets). */
  D: number;
  Dlo: number;
  Dhi: number;
  /** Heartbeat, ms. Default 200. */
  heartbeatMs: number;
  /** How long a received message may wait for its handler's verdict before it can no longer be relayed. Default 5000. */
  validationWindowMs: number;
}

export const DEFAULT_GOSSIP: GossipTuning = {
  D: 4,
  Dlo: 3,
  Dhi: 8,
  heartbeatMs: 200,
  validationWindowMs: 5000,
};

export interface P2POptions {
  /** 32-byte Ed25519 seed: the node key. The libp2p identity (and so the peer id) is derived from it. */
  nodeSecretKey: Uint8Array;
  /** Listen multiaddrs. Default ['/ip4/127.0.0.1/tcp/0']. */
  listen?: string[];
  /** Multiaddrs ending in /p2p/<peer id>; dialled at start and re-dialled with backoff forever while running. */
  bootstrap?: string[];
  /** The chain id; its first 4 bytes (hex) prefix every topic and protocol name. */
  chainId: Uint8Array;
  log?: LogFn;
  scoring?: Partial<ScoringOptions>;
  backoff?: Partial<BackoffOptions>;
  gossip?: Partial<GossipTuning>;
  /** Largest gossip message, bytes. Default 16 MiB. */
  maxMessageBytes?: number;
  /** Largest request and response bodies, bytes. Default 16 MiB each. */
  maxRequestBytes?: number;
  maxResponseBytes?: number;
  /** How long a responder waits for the request bytes, ms. Default 10_000. */
  serverReadTimeoutMs?: number;
}

export interface PeerInfo {
  id: string;
  addrs: string[];
}

export interface P2P {
  /** This node's peer id (base58btc, "12D3KooW…"), = peerIdOf(node public key). */
  readonly peerId: string;
  /** Listen addresses with /p2p/<id>, for others to bootstrap from. */
  addrs(): string[];
  /** Registers the one handler of a topic and subscribes to it; its verdict drives relaying and scoring. */
  subscribe(topic: Topic, handler: GossipHandler): void;
  unsubscribe(topic: Topic): void;
  /** Publishes to a topic; resolves to the number of peers it was sent to (0 for a lone node, never throws for that). */
  publish(topic: Topic, data: Uint8Array): Promise<number>;
  /** Serves a request-response protocol `name`. */
  handle(name: string, handler: RequestHandler): Promise<void>;
  /** One request to `peer` (peer id) on protocol `name`; rejects with P2PError. */
  request(peer: string, name: string, req: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** Records a strike against a peer (same weight as a rejected message); at the threshold the peer is banned. */
  penalize(peer: string, reason: string): void;
  /** The gossipsub score of a peer (includes the strike penalty; cached for one heartbeat); 0 if unknown. */
  peerScore(peer: string): number;
  /**
   * Cut this node off from every peer for `ms` (fault drills: a network partition of one node, the
   * process running on): all connections are closed and refused until then, then bootstrap peers
   * are dialled again.
   */
  isolate(ms: number): void;
  /** Whether a peer is currently banned (disconnected and refused). */
  isBanned(peer: string): boolean;
  /** Connected peers and their remote addresses. */
  peers(): PeerInfo[];
  /** Peer connection events; returns an unsubscribe function. */
  onPeer(cb: (id: string, event: 'connect' | 'disconnect') => void): () => void;
  /** Round-trip time to a connected peer, ms (libp2p ping). */
  ping(peer: string, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

const MiB = 1024 * 1024;

/** Peer id of an Ed25519 node public key (32 raw bytes): binds on-chain validator records to libp2p peers. */
export function peerIdOf(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new TypeError('peerIdOf: expected a 32-byte Ed25519 public key');
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString();
}

/** Short chain prefix used in topic and protocol names: hex of the first 4 bytes of the chain id. */
export function chainPrefix(chainId: Uint8Array): string {
  if (chainId.length < 4) throw new TypeError('chainId must be at least 4 bytes');
  return Buffer.from(chainId.subarray(0, 4)).toString('hex');
}
/**
 * Version 2: messages without a publisher signature (version 1 had StrictSign). A node of the other
 * version is on other topics — it neither receives these messages nor penalises their senders for
 * the missing (or unexpected) signature.
 */
export function topicName(chainId: Uint8Array, topic: Topic): string {
  return `/roamchain/${chainPrefix(chainId)}/${topic}/2`;
}
export function protocolName(chainId: Uint8Array, name: string): string {
  if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(name)) throw new TypeError(`bad protocol name '${name}'`);
  return `/roamchain/${chainPrefix(chainId)}/req/${name}/1`;
}

// Response frame: one length-prefixed frame = status byte + body.
const ST_OK = 0;
const ST_ERROR = 1;
const ST_TOO_LARGE = 2;

/** Internal view of the gossipsub service: the methods the public interface type does not list. */
interface GossipSubExt {
  getScore(peerId: string): number;
  reportMessageValidationResult(msgId: string, propagationSource: string, result: TopicValidatorResult): void;
}

const sha256 = (data: Uint8Array | undefined): Buffer =>
  createHash('sha256')
    .update(data ?? new Uint8Array())
    .digest();

function errName(e: unknown): string {
  return e instanceof Error ? e.name : '';
}
/** lpStream's length check, or the byte stream's buffer bound that can trip before it. */
function tooLarge(e: unknown): boolean {
  const n = errName(e);
  return n === 'InvalidDataLengthError' || n === 'StreamBufferError';
}
function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function createP2P(opts: P2POptions): Promise<P2P> {
  if (opts.nodeSecretKey.length !== 32) throw new TypeError('nodeSecretKey must be a 32-byte Ed25519 seed');
  const log: LogFn = opts.log ?? (() => {});
  const scoring: ScoringOptions = { ...DEFAULT_SCORING, ...opts.scoring };
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...opts.backoff };
  const tune: GossipTuning = { ...DEFAULT_GOSSIP, ...opts.gossip };
  const maxMessageBytes = opts.maxMessageBytes ?? 16 * MiB;
  const maxRequestBytes = opts.maxRequestBytes ?? 16 * MiB;
  const maxResponseBytes = opts.maxResponseBytes ?? 16 * MiB;
  const serverReadTimeoutMs = opts.serverReadTimeoutMs ?? 10_000;
  const chainId = opts.chainId;
  const topicOf = new Map<string, Topic>(TOPICS.map((t) => [topicName(chainId, t), t]));

  const privateKey = await generateKeyPairFromSeed('Ed25519', opts.nodeSecretKey);
  const strikes = new StrikeBook(scoring);
  /** Until when this node is cut off from every peer (`isolate`, fault drills), ms since epoch. */
  let isolatedUntil = 0;
  const banned = (p: PeerId): boolean => Date.now() < isolatedUntil || strikes.isBanned(p.toString());

  // Rejected messages cost (count^2 * 1) per topic in gossipsub's own score; the rest of the topic score
  // terms (mesh time, first deliveries, mesh delivery deficits) are off: on a small, quiet validator
  // network they punish honest peers for silence.
  const topicScore: TopicScoreParams = createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 1,
    firstMessageDeliveriesWeight: 0,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: -1,
    invalidMessageDeliveriesDecay: 0.9,
  });
  const heartbeat = tune.heartbeatMs;

  const node = await createLibp2p({
    privateKey,
    addresses: { listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // libp2p pings every connection each 10 s and drops it if the ping does not come back in time; a
    // ping queued behind megabytes of gossip or a 16 MiB sync response must not kill a healthy link.
    connectionMonitor: { pingTimeout: { minTimeout: 10_000, maxTimeout: 60_000 } },
    connectionGater: {
      denyDialPeer: banned,
      denyInboundEncryptedConnection: banned,
      denyOutboundEncryptedConnection: banned,
    },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        D: tune.D,
        Dlo: tune.Dlo,
        Dhi: tune.Dhi,
        Dlazy: tune.D,
        Dout: Math.max(1, Math.min(tune.Dlo - 1, Math.floor(tune.D / 2))),
        Dscore: Math.max(1, Math.floor(tune.D / 2)),
        heartbeatInterval: heartbeat,
        mcacheLength: Math.max(5, Math.ceil(tune.validationWindowMs / heartbeat)),
        mcacheGossip: Math.max(3, Math.ceil(1000 / heartbeat)),
        pruneBackoff: 10_000,
        floodPublish: true,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        fallbackToFloodsub: false,
        // No per-message publisher signature: every payload this network gossips authenticates
        // itself (transactions signed by their parties, proposals and votes by their validators,
        // all checked by the handlers before `accept`), the link to the neighbour is authenticated
        // by Noise, and a reject penalises that neighbour. StrictSign added an Ed25519 signature to
        // every published message and a verification to every received one on the main thread
        // (1.9 % of a validator's main thread in the four-validator bench), for a publisher id
        // nothing read. Messages are deduplicated by the hash of their data (msgIdFn).
        globalSignaturePolicy: StrictNoSign,
        asyncValidation: true,
        msgIdFn: (msg) => sha256(msg.data),
        fastMsgIdFn: (rpc) => sha256(rpc.data).toString('base64'),
        msgIdToStrFn: (id) => Buffer.from(id).toString('base64'),
        allowedTopics: [...topicOf.keys()],
        maxInboundDataLength: maxMessageBytes + 64 * 1024,
        maxOutboundBufferSize: 4 * maxMessageBytes,
        scoreParams: {
          topics: Object.fromEntries([...topicOf.keys()].map((t) => [t, topicScore])),
          appSpecificScore: (p: string) => (strikes.isBanned(p) ? -100 : -strikes.count(p)),
          appSpecificWeight: 10,
          // Validators of a devnet share one IP: colocation is no Sybil signal here.
          IPColocationFactorWeight: 0,
        },
      }),
    },
  });
  const self = node.peerId.toString();
  const pubsub = node.services.pubsub;
  const pubsubExt = pubsub as unknown as GossipSubExt;

  // ---- peer events -------------------------------------------------------------------------------
  const peerListeners = new Set<(id: string, event: 'connect' | 'disconnect') => void>();
  const emitPeer = (id: string, event: 'connect' | 'disconnect'): void => {
    for (const cb of peerListeners) {
      try {
        cb(id, event);
      } catch (e) {
        log('error', 'p2p onPeer callback threw', { err: errMsg(e) });
      }
    }
  };

  // ---- bootstrap re-dialling -------------------------------------------------------------------------
  let running = true;
  interface Boot {
    addr: string;
    peer: string;
    attempt: number;
    timer: NodeJS.Timeout | undefined;
    dialling: boolean;
  }
  const boots = new Map<string, Boot>();
  for (const addr of opts.bootstrap ?? []) {
    const ma = multiaddr(addr);
    const peer = ma.getComponents().find((c) => c.name === 'p2p')?.value;
    if (peer === undefined) throw new TypeError(`bootstrap address without /p2p/<id>: ${addr}`);
    if (peer === self) continue;
    boots.set(peer, { addr, peer, attempt: 0, timer: undefined, dialling: false });
  }
  const connected = (peer: string): boolean => node.getConnections(peerIdFromString(peer)).length > 0;
  const schedule = (b: Boot, delayMs: number): void => {
    if (!running || b.timer !== undefined) return;
    b.timer = setTimeout(() => {
      b.timer = undefined;
      void dialBoot(b);
    }, delayMs);
    b.timer.unref?.();
  };
  const dialBoot = async (b: Boot): Promise<void> => {
    if (!running || b.dialling) return;
    if (connected(b.peer)) {
      b.attempt = 0;
      return;
    }
    const until = Date.now() < isolatedUntil ? isolatedUntil : strikes.bannedUntil(b.peer);
    if (until !== undefined) {
      schedule(b, Math.max(0, until - Date.now()) + backoffDelay(0, backoff));
      return;
    }
    b.dialling = true;
    try {
      await node.dial(multiaddr(b.addr), { signal: AbortSignal.timeout(Math.max(2000, backoff.maxMs)) });
      b.attempt = 0;
      log('debug', 'p2p bootstrap peer connected', { peer: b.peer });
    } catch (e) {
      const delay = backoffDelay(b.attempt, backoff);
      b.attempt++;
      log('debug', 'p2p bootstrap dial failed', {
        peer: b.peer,
        attempt: b.attempt,
        retryMs: delay,
        err: errMsg(e),
      });
      schedule(b, delay);
    } finally {
      b.dialling = false;
    }
  };

  node.addEventListener('peer:connect', (evt) => {
    const id = evt.detail.toString();
    const b = boots.get(id);
    if (b !== undefined) b.attempt = 0;
    emitPeer(id, 'connect');
  });
  node.addEventListener('peer:disconnect', (evt) => {
    const id = evt.detail.toString();
    const b = boots.get(id);
    if (b !== undefined && running) schedule(b, backoffDelay(b.attempt, backoff));
    emitPeer(id, 'disconnect');
  });

  // ---- scoring / bans ------------------------------------------------------------------------------
  const strike = (peer: string, reason: string): void => {
    if (peer === self) return;
    const nowBanned = strikes.strike(peer);
    log('debug', 'p2p strike', { peer, reason, strikes: strikes.count(peer) });
    if (nowBanned) {
      log('warn', 'p2p peer banned', { peer, reason, untilMs: strikes.bannedUntil(peer) });
      node.hangUp(peerIdFromString(peer)).catch((e: unknown) => {
        log('debug', 'p2p hangUp failed', { peer, err: errMsg(e) });
      });
    }
  };

  // ---- gossip ------------------------------------------------------------------------------------
  const handlers = new Map<Topic, GossipHandler>();
  const VERDICT: Record<Verdict, TopicValidatorResult> = {
    accept: TopicValidatorResult.Accept,
    reject: TopicValidatorResult.Reject,
    ignore: TopicValidatorResult.Ignore,
  };
  pubsub.addEventListener('gossipsub:message', (evt) => {
    const { propagationSource, msgId, msg } = evt.detail;
    const from = propagationSource.toString();
    const topic = topicOf.get(msg.topic);
    const handler = topic === undefined ? undefined : handlers.get(topic);
    if (handler === undefined) {
      pubsubExt.reportMessageValidationResult(msgId, from, TopicValidatorResult.Ignore);
      return;
    }
    const finish = (v: Verdict): void => {
      const verdict: Verdict = v === 'accept' || v === 'reject' ? v : 'ignore';
      pubsubExt.reportMessageValidationResult(msgId, from, VERDICT[verdict]);
      if (verdict === 'reject') strike(from, `rejected message on ${topic}`);
    };
    const fail = (e: unknown): void => {
      log('error', 'p2p gossip handler threw', { topic, from, err: errMsg(e) });
      pubsubExt.reportMessageValidationResult(msgId, from, TopicValidatorResult.Ignore);
    };
    try {
      const r = handler(msg.data, from);
      if (typeof r === 'string') finish(r);
      else r.then(finish, fail);
    } catch (e) {
      fail(e);
    }
  });

  // ---- request / response ------------------------------------------------------------------------
  const utf8 = new TextEncoder();
  const serve = async (handler: RequestHandler, stream: Stream, connection: Connection): Promise<void> => {
    const from = connection.remotePeer.toString();
    const lp = lpStream(stream, { maxDataLength: maxRequestBytes, maxBufferSize: maxRequestBytes + 64 });
    const signal = AbortSignal.timeout(serverReadTimeoutMs);
    let req: Uint8Array;
    try {
      req = (await lp.read({ signal })).subarray();
    } catch (e) {
      if (tooLarge(e)) {
        await lp
          .write(new Uint8ArrayList(Uint8Array.of(ST_TOO_LARGE), utf8.encode('request too large')), {
            signal,
          })
          .catch(() => {});
      }
      stream.abort(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    let frame: Uint8ArrayList;
    try {
      const res = await handler(req, from);
      frame =
        res.length > maxResponseBytes
          ? new Uint8ArrayList(Uint8Array.of(ST_TOO_LARGE), utf8.encode('response too large'))
          : new Uint8ArrayList(Uint8Array.of(ST_OK), res);
    } catch (e) {
      frame = new Uint8ArrayList(Uint8Array.of(ST_ERROR), utf8.encode(errMsg(e).slice(0, 1024)));
    }
    try {
      await lp.write(frame, { signal: AbortSignal.timeout(serverReadTimeoutMs) });
      await stream.close({ signal: AbortSignal.timeout(serverReadTimeoutMs) });
    } catch (e) {
      stream.abort(e instanceof Error ? e : new Error(String(e)));
    }
  };

  const request = async (
    peer: string,
    name: string,
    req: Uint8Array,
    timeoutMs: number,
  ): Promise<Uint8Array> => {
    if (req.length > maxRequestBytes) {
      throw new P2PError('P2P_TOO_LARGE', `request of ${req.length} bytes exceeds ${maxRequestBytes}`);
    }
    const proto = protocolName(chainId, name);
    let target: PeerId;
    try {
      target = peerIdFromString(peer);
    } catch (e) {
      throw new P2PError('P2P_UNREACHABLE', `bad peer id ${peer}`, { cause: e });
    }
    if (strikes.isBanned(peer)) throw new P2PError('P2P_UNREACHABLE', `peer ${peer} is banned`);
    const signal = AbortSignal.timeout(timeoutMs);
    let stream: Stream;
    try {
      stream = await node.dialProtocol(target, proto, { signal });
    } catch (e) {
      if (signal.aborted)
        throw new P2PError('P2P_TIMEOUT', `${name} to ${peer}: timed out opening stream`, { cause: e });
      if (errName(e) === 'UnsupportedProtocolError') {
        throw new P2PError('P2P_REMOTE', `${peer} does not serve ${name}`, { cause: e });
      }
      throw new P2PError('P2P_UNREACHABLE', `${name} to ${peer}: ${errMsg(e)}`, { cause: e });
    }
    try {
      const lp = lpStream(stream, {
        maxDataLength: maxResponseBytes + 1,
        maxBufferSize: maxResponseBytes + 64,
      });
      await lp.write(req, { signal });
      const frame = await lp.read({ signal });
      const status = frame.get(0);
      const body = frame.sublist(1).subarray();
      await stream.close({ signal }).catch(() => {});
      if (status === ST_OK) return body;
      const text = new TextDecoder().decode(body);
      if (status === ST_TOO_LARGE) throw new P2PError('P2P_TOO_LARGE', `${name} from ${peer}: ${text}`);
      throw new P2PError('P2P_REMOTE', `${name} from ${peer}: ${text}`);
    } catch (e) {
      stream.abort(e instanceof Error ? e : new Error(String(e)));
      if (e instanceof P2PError) throw e;
      if (signal.aborted)
        throw new P2PError('P2P_TIMEOUT', `${name} to ${peer}: no response in ${timeoutMs} ms`, { cause: e });
      if (tooLarge(e)) {
        throw new P2PError('P2P_TOO_LARGE', `${name} from ${peer}: response exceeds ${maxResponseBytes}`, {
          cause: e,
        });
      }
      throw new P2PError('P2P_REMOTE', `${name} to ${peer}: ${errMsg(e)}`, { cause: e });
    }
  };

  // ---- start -------------------------------------------------------------------------------------
  for (const b of boots.values()) void dialBoot(b);
  log('info', 'p2p started', { peerId: self, addrs: node.getMultiaddrs().map(String) });

  return {
    peerId: self,
    addrs: () => node.getMultiaddrs().map(String),
    subscribe(topic, handler) {
      if (!TOPICS.includes(topic)) throw new TypeError(`unknown topic ${topic}`);
      if (handlers.has(topic)) throw new Error(`topic ${topic} already has a handler`);
      handlers.set(topic, handler);
      pubsub.subscribe(topicName(chainId, topic));
    },
    unsubscribe(topic) {
      if (handlers.delete(topic)) pubsub.unsubscribe(topicName(chainId, topic));
    },
    async publish(topic, data) {
      if (!TOPICS.includes(topic)) throw new TypeError(`unknown topic ${topic}`);
      if (data.length > maxMessageBytes) {
        throw new P2PError('P2P_TOO_LARGE', `message of ${data.length} bytes exceeds ${maxMessageBytes}`);
      }
      const r = await pubsub.publish(topicName(chainId, topic), data);
      return r.recipients.length;
    },
    async handle(name, handler) {
      await node.handle(
        protocolName(chainId, name),
        (stream, connection) => serve(handler, stream, connection),
        {
          maxInboundStreams: 64,
        },
      );
    },
    request,
    penalize: (peer, reason) => strike(peer, reason),
    isolate(ms) {
      isolatedUntil = Date.now() + ms;
      log('warn', 'p2p isolated from every peer', { ms });
      for (const p of node.getPeers()) {
        node
          .hangUp(p)
          .catch((e: unknown) => log('debug', 'p2p hangUp failed', { peer: p.toString(), err: errMsg(e) }));
      }
      const end = setTimeout(() => {
        log('warn', 'p2p isolation over; reconnecting', {});
        for (const b of boots.values()) {
          b.attempt = 0;
          if (b.timer !== undefined) clearTimeout(b.timer);
          b.timer = undefined;
          void dialBoot(b);
        }
      }, ms + 10);
      end.unref?.();
    },
    peerScore: (peer) => pubsubExt.getScore(peer),
    isBanned: (peer) => strikes.isBanned(peer),
    peers: () =>
      node.getPeers().map((p) => ({
        id: p.toString(),
        addrs: node.getConnections(p).map((c) => c.remoteAddr.toString()),
      })),
    onPeer(cb) {
      peerListeners.add(cb);
      return () => peerListeners.delete(cb);
    },
    async ping(peer, timeoutMs = 5000) {
      try {
        return await node.services.ping.ping(peerIdFromString(peer), {
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        throw new P2PError('P2P_UNREACHABLE', `ping ${peer}: ${errMsg(e)}`, { cause: e });
      }
    },
    async stop() {
      if (!running) return;
      running = false;
      for (const b of boots.values()) {
        if (b.timer !== undefined) clearTimeout(b.timer);
        b.timer = undefined;
      }
      await node.stop();
      log('info', 'p2p stopped', { peerId: self });
    },
  };
}

/** The peer id a 32-byte node seed yields (what createP2P will use). */
export async function peerIdOfSeed(seed: Uint8Array): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', seed)).toString();
}
