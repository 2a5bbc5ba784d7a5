/** The web app: explorer, subscriber wallet and operator console, live over the node's WebSocket. */
import { ConsoleApp } from './console.js';
import { Explorer } from './explorer.js';
import { href, LiveContext, useBlockFeed, useRoute } from './lib.js';
import { WalletApp } from './wallet.js';

const SECTIONS = [
  ['explorer', 'Explorer'],
  ['wallet', 'Wallet'],
  ['console', 'Operator console'],
] as const;

export function App() {
  const live = useBlockFeed();
  const route = useRoute();
  const section = route[0] ?? 'explorer';
  return (
    <LiveContext.Provider value={live}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href={href('explorer')}>
          roamchain
        </a>
        <nav aria-label="Sections">
          {SECTIONS.map(([k, label]) => (
            <a key={k} href={href(k)} aria-current={section === k ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span className={`live ${live.connected ? 'ok' : 'warn'}`} aria-live="polite">
          {live.connected ? `● #${live.block?.height ?? '…'}` : '○ connecting'}
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {/* Keep the wallet and the console mounted: their keys live in memory only. */}
        <div hidden={section !== 'explorer'}>
          {section === 'explorer' ? <Explorer route={route.slice(1)} /> : null}
        </div>
        <div hidden={section !== 'wallet'}>
          <WalletApp />
        </div>
        <div hidden={section !== 'console'}>
          <ConsoleApp />
        </div>
      </main>
    </LiveContext.Provider>
  );
}
