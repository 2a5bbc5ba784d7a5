// The polyfill must be evaluated before any libp2p module: keep this the first import.
import './polyfill.js';

export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { P2PError, type P2PErrorCode } from './errors.js';
export {
  chainPrefix,
  createP2P,
  DEFAULT_GOSSIP,
  type GossipHandler,
  type GossipTuning,
  type LogFn,
  type LogLevel,
  type P2P,
  type P2POptions,
  type PeerInfo,
  peerIdOf,
  peerIdOfSeed,
  protocolName,
  type RequestHandler,
  TOPICS,
  type Topic,
  topicName,
  type Verdict,
} from './p2p.js';
export { DEFAULT_SCORING, type ScoringOptions, StrikeBook } from './scoring.js';
