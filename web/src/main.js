import { h, render } from 'preact';
render(h('main', null, h('h1', null, 'FastGPU')), document.getElementById('app'));
