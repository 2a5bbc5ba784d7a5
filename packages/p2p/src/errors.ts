export type P2PErrorCode = 'P2P_TIMEOUT' | 'P2P_UNREACHABLE' | 'P2P_TOO_LARGE' | 'P2P_REMOTE';

/** The one error type `request` rejects with (and `publish` for oversized messages). */
export class P2PError extends Error {
  override readonly name = 'P2PError';
  readonly code: P2PErrorCode;
  constructor(code: P2PErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
