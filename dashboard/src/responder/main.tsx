/** The responder's page (issue 21): opened from the one-time link in a dispatch SMS, on a phone. */
import { render } from 'preact';
import '../styles.css';
import { locale, setLocale } from '../i18n';
import { Responder } from './Responder';

setLocale(locale());
document.title = '安心 工单';
render(<Responder token={location.pathname.split('/').pop() ?? ''} />, document.getElementById('app')!);
