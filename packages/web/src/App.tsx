/** The web app: explorer, subscriber wallet and operator console, live over the node's WebSocket. */
import { useEffect, useRef } from 'react';
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
  const label = SECTIONS.find(([k]) => k === section)?.[1] ?? 'Explorer';
  const h1 = useRef<HTMLHeadingElement>(null);
  const first = useRef(true);
  const path = route.join('/');
  // A new route: its title, and focus on its heading (not on <body>) after in-app navigation.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on each route change
  useEffect(() => {
    if (section !== 'explorer' || route.length < 2) document.title = `${label} · roamchain`;
    if (first.current) {
      first.current = false;
      return;
    }
    h1.current?.focus();
  }, [path]);
  return (
    <LiveContext.Provider value={live}>
      {/* A button, not a #main link: the hash is the router's. */}
      <button type="button" className="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header className="top">
        <a className="brand" href={href('explorer')}>
          roamchain
        </a>
        <nav aria-label="Sections">
          {SECTIONS.map(([k, text]) => (
            <a key={k} href={href(k)} aria-current={section === k ? 'page' : undefined}>
              {text}
            </a>
          ))}
        </nav>
        {/* Not a live region: it changes with every block. */}
        <span className={`live ${live.connected ? 'ok' : 'warn'}`}>
          {live.connected ? `● block ${live.block?.height ?? '…'}` : '○ connecting'}
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <h1 className="page-title" ref={h1} tabIndex={-1}>
          {label}
        </h1>
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
