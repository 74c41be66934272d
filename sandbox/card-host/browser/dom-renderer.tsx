import type { ReactNode } from 'react';
import Reconciler from 'react-reconciler';
import { DefaultEventPriority } from 'react-reconciler/constants';

/**
 * A small DOM renderer for the sandbox's card host, on react-reconciler (react-dom is not in
 * the tree). It knows only what the card host's own components render: plain elements with
 * `className`, `style`, `data-*`/`aria-*` attributes, form values and `on*` handlers. The
 * extensions never see it: they render `@hubspot/ui-extensions` components, which the
 * sandbox's shim turns into these elements.
 */

type Props = Record<string, unknown>;
type Listener = (event: Event) => void;

/** DOM events by React prop name; a handler is looked up at dispatch, so updates are free. */
const EVENTS: Record<string, string> = {
  onClick: 'click',
  onChange: 'change',
  onInput: 'input',
  onSubmit: 'submit',
  onFocus: 'focus',
  onBlur: 'blur',
  onKeyDown: 'keydown',
};

const handlers = new WeakMap<Element, Map<string, Listener>>();

function setHandler(element: Element, prop: string, value: unknown): void {
  const type = EVENTS[prop];
  if (type === undefined) throw new Error(`card host: unsupported event prop ${prop}`);
  let map = handlers.get(element);
  if (!map) {
    map = new Map();
    handlers.set(element, map);
  }
  if (!map.has(type)) {
    element.addEventListener(type, (event) => {
      map.get(type)?.(event);
    });
  }
  if (typeof value === 'function') map.set(type, value as Listener);
  else map.set(type, () => undefined);
}

/** Form values are properties, not attributes: a controlled value is written after children. */
const VALUE_PROPS = new Set(['value', 'checked']);

/** An attribute's text: components pass strings, numbers and booleans only. */
function scalar(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value);
}

function setProp(element: HTMLElement, name: string, value: unknown): void {
  if (name === 'children' || name === 'key' || name === 'ref') return;
  if (name in EVENTS || name.startsWith('on')) {
    setHandler(element, name, value);
    return;
  }
  if (VALUE_PROPS.has(name)) {
    if (name === 'checked') (element as HTMLInputElement).checked = value === true;
    else if (
      element instanceof HTMLInputElement ||
      element instanceof HTMLTextAreaElement ||
      element instanceof HTMLSelectElement
    ) {
      const text = value === undefined || value === null ? '' : scalar(value);
      if (element.value !== text) element.value = text;
    } else element.setAttribute(name, scalar(value));
    return;
  }
  if (name === 'className') {
    if (typeof value === 'string' && value !== '') element.setAttribute('class', value);
    else element.removeAttribute('class');
    return;
  }
  if (name === 'style') {
    element.removeAttribute('style');
    if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value as Record<string, string | number>)) {
        element.style.setProperty(
          key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
          typeof v === 'number' && v !== 0 ? `${v}px` : String(v),
        );
      }
    }
    return;
  }
  const attribute = name === 'htmlFor' ? 'for' : name;
  if (value === undefined || value === null || value === false) element.removeAttribute(attribute);
  else element.setAttribute(attribute, value === true ? '' : scalar(value));
}

function applyProps(element: HTMLElement, previous: Props, next: Props): void {
  for (const name of Object.keys(previous)) {
    if (!(name in next)) setProp(element, name, undefined);
  }
  for (const [name, value] of Object.entries(next)) {
    if (previous[name] !== value || VALUE_PROPS.has(name)) setProp(element, name, value);
  }
}

function textChild(props: Props): boolean {
  return typeof props.children === 'string' || typeof props.children === 'number';
}

type Container = HTMLElement;
type Instance = HTMLElement;
type TextInstance = Text;

const reconciler = Reconciler<
  string,
  Props,
  Container,
  Instance,
  TextInstance,
  never,
  never,
  Instance | TextInstance,
  null,
  boolean,
  never,
  ReturnType<typeof setTimeout>,
  -1
>({
  supportsMutation: true,
  supportsPersistence: false,
  supportsHydration: false,
  isPrimaryRenderer: true,
  noTimeout: -1,
  scheduleTimeout: setTimeout,
  cancelTimeout: clearTimeout,
  supportsMicrotasks: true,
  scheduleMicrotask: queueMicrotask,
  getRootHostContext: () => null,
  getChildHostContext: () => null,
  getPublicInstance: (instance) => instance,
  prepareForCommit: () => null,
  resetAfterCommit: () => undefined,
  preparePortalMount: () => undefined,
  shouldSetTextContent: (_type, props) => textChild(props),
  createInstance(type, props) {
    const element = document.createElement(type);
    applyProps(element, {}, props);
    if (textChild(props)) element.textContent = String(props.children);
    return element;
  },
  createTextInstance: (text) => document.createTextNode(text),
  appendInitialChild: (parent, child) => {
    parent.appendChild(child);
  },
  // Values of selects are written once their options exist (commitMount).
  finalizeInitialChildren: (_instance, type) => type === 'select',
  commitMount(instance, _type, props) {
    if ('value' in props) setProp(instance, 'value', props.value);
  },
  prepareUpdate: () => true,
  commitUpdate(instance, _payload, _type, previous, next) {
    applyProps(instance, previous, next);
    if (textChild(next) && previous.children !== next.children) {
      instance.textContent = String(next.children);
    }
  },
  commitTextUpdate: (text, _old, next) => {
    text.data = next;
  },
  resetTextContent: (instance) => {
    instance.textContent = '';
  },
  appendChild: (parent, child) => {
    parent.appendChild(child);
  },
  appendChildToContainer: (container, child) => {
    container.appendChild(child);
  },
  insertBefore: (parent, child, before) => {
    parent.insertBefore(child, before);
  },
  insertInContainerBefore: (container, child, before) => {
    container.insertBefore(child, before);
  },
  removeChild: (parent, child) => {
    parent.removeChild(child);
  },
  removeChildFromContainer: (container, child) => {
    container.removeChild(child);
  },
  clearContainer: (container) => {
    container.textContent = '';
  },
  hideInstance: (instance) => {
    instance.style.display = 'none';
  },
  unhideInstance: (instance) => {
    instance.style.removeProperty('display');
  },
  hideTextInstance: (text) => {
    text.data = '';
  },
  unhideTextInstance: (text, value) => {
    text.data = value;
  },
  detachDeletedInstance: () => undefined,
  getCurrentEventPriority: () => DefaultEventPriority,
  getInstanceFromNode: () => null,
  beforeActiveInstanceBlur: () => undefined,
  afterActiveInstanceBlur: () => undefined,
  prepareScopeUpdate: () => undefined,
  getInstanceFromScope: () => null,
});

/** Renders `node` into `container` (replacing what it held). */
export function render(node: ReactNode, container: HTMLElement): void {
  const root: unknown = reconciler.createContainer(
    container,
    0,
    null,
    false,
    null,
    'card-host',
    (error: Error) => {
      console.warn('card host: recoverable error', error);
    },
    null,
  );
  reconciler.updateContainer(node, root, null, null);
}
