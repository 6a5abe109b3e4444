// The web UI's entry: mounts the app (pages, router) into #app.
import { render } from 'preact';
import { App } from './app';
import './theme.css';

const root = document.getElementById('app');
if (root) render(<App />, root);
