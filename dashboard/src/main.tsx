import { render } from 'preact';
import './styles.css';
import { setLocale, locale } from './i18n';
import { debugHandle, restoreSession } from './session';
import { App } from './components/App';

setLocale(locale());
(window as unknown as { __anxin: unknown }).__anxin = debugHandle();
void restoreSession().finally(() => render(<App />, document.getElementById('app')!));
