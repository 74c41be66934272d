import { useContext, useState, type ReactNode } from 'react';

import { HostContext, extend, hostFetch, type HostActions } from './host.tsx';

/**
 * The sandbox's stand-in for `@hubspot/ui-extensions` in the browser: the components the
 * app's extensions import, drawn as plain DOM in HubSpot's look, with HubSpot's props. The
 * card-host bundler aliases the package to this file, so an extension importing a name not
 * exported here fails the bundle ("No matching export"), never silently at run time.
 * Props follow HubSpot's UI components reference (developers.hubspot.com/docs/reference/ui-components).
 */

type Children = { readonly children?: ReactNode };
type TestId = { readonly testId?: string };

function tid(testId: string | undefined): Record<string, string> {
  return testId === undefined ? {} : { 'data-testid': testId };
}

function cls(...names: Array<string | false | undefined>): string {
  return names.filter(Boolean).join(' ');
}

// ---- hubspot, hooks ---------------------------------------------------------------------

export const hubspot = {
  extend,
  fetch: hostFetch,
};

export function useExtensionContext(): Record<string, unknown> {
  const host = useContext(HostContext);
  if (!host) throw new Error('useExtensionContext outside hubspot.extend');
  return host.context;
}

export function useExtensionActions(): HostActions {
  const host = useContext(HostContext);
  if (!host) throw new Error('useExtensionActions outside hubspot.extend');
  return host.actions;
}

// ---- layout -----------------------------------------------------------------------------

type Gap =
  | 'flush'
  | 'extra-small'
  | 'xs'
  | 'small'
  | 'sm'
  | 'medium'
  | 'md'
  | 'large'
  | 'lg'
  | 'extra-large'
  | 'xl';
const GAPS: Record<Gap, string> = {
  flush: '0',
  'extra-small': '4px',
  xs: '4px',
  small: '8px',
  sm: '8px',
  medium: '16px',
  md: '16px',
  large: '24px',
  lg: '24px',
  'extra-large': '32px',
  xl: '32px',
};
const ALIGN: Record<string, string> = {
  start: 'flex-start',
  end: 'flex-end',
  center: 'center',
  baseline: 'baseline',
  stretch: 'stretch',
  between: 'space-between',
  around: 'space-around',
};

export function Flex(
  props: Children &
    TestId & {
      direction?: 'row' | 'column';
      gap?: Gap;
      align?: string;
      alignSelf?: string;
      justify?: string;
      wrap?: boolean | 'wrap' | 'nowrap';
    },
) {
  const style: Record<string, string> = {
    display: 'flex',
    flexDirection: props.direction ?? 'row',
    gap: GAPS[props.gap ?? 'flush'],
  };
  if (props.align) style.alignItems = ALIGN[props.align] ?? props.align;
  if (props.alignSelf) style.alignSelf = ALIGN[props.alignSelf] ?? props.alignSelf;
  if (props.justify) style.justifyContent = ALIGN[props.justify] ?? props.justify;
  if (props.wrap === true || props.wrap === 'wrap') style.flexWrap = 'wrap';
  return (
    <div className="hs-flex" style={style} {...tid(props.testId)}>
      {props.children}
    </div>
  );
}

export function Box(
  props: Children & TestId & { flex?: number | 'auto' | 'initial' | 'none'; alignSelf?: string },
) {
  const style: Record<string, string> = {};
  if (props.flex !== undefined) style.flex = String(props.flex);
  if (props.alignSelf) style.alignSelf = ALIGN[props.alignSelf] ?? props.alignSelf;
  return (
    <div className="hs-box" style={style} {...tid(props.testId)}>
      {props.children}
    </div>
  );
}

export function Tile(props: Children & TestId & { compact?: boolean; flush?: boolean }) {
  return (
    <div
      className={cls('hs-tile', props.compact && 'hs-compact', props.flush && 'hs-flush')}
      {...tid(props.testId)}
    >
      {props.children}
    </div>
  );
}

export function Divider(props: TestId & { distance?: string }) {
  return <hr className="hs-divider" {...tid(props.testId)} />;
}

export function ButtonRow(props: Children & TestId) {
  return (
    <div className="hs-flex hs-button-row" {...tid(props.testId)}>
      {props.children}
    </div>
  );
}

export function Accordion(props: Children & TestId & { title: string; defaultOpen?: boolean }) {
  return (
    <details className="hs-accordion" open={props.defaultOpen === true} {...tid(props.testId)}>
      <summary>{props.title}</summary>
      {props.children}
    </details>
  );
}

// ---- text -------------------------------------------------------------------------------

export function Text(
  props: Children &
    TestId & {
      variant?: 'bodytext' | 'microcopy';
      inline?: boolean;
      format?: {
        fontWeight?: 'regular' | 'bold' | 'demibold';
        italic?: boolean;
        lineDecoration?: string;
      };
      truncate?: boolean;
    },
) {
  const style: Record<string, string> = {};
  if (props.format?.fontWeight === 'bold') style.fontWeight = '700';
  if (props.format?.fontWeight === 'demibold') style.fontWeight = '600';
  if (props.format?.italic) style.fontStyle = 'italic';
  if (props.format?.lineDecoration === 'strikethrough') style.textDecoration = 'line-through';
  if (props.format?.lineDecoration === 'underline') style.textDecoration = 'underline';
  const className = cls('hs-text', props.variant === 'microcopy' && 'hs-microcopy');
  return props.inline ? (
    <span className={className} style={style} {...tid(props.testId)}>
      {props.children}
    </span>
  ) : (
    <p className={className} style={style} {...tid(props.testId)}>
      {props.children}
    </p>
  );
}

export function Heading(props: Children & TestId & { inline?: boolean }) {
  return (
    <h3 className="hs-heading" {...tid(props.testId)}>
      {props.children}
    </h3>
  );
}

export function Link(
  props: Children &
    TestId & {
      href?: string | { url: string; external?: boolean };
      onClick?: () => void;
      variant?: 'primary' | 'light' | 'dark' | 'destructive';
    },
) {
  const href = typeof props.href === 'string' ? props.href : props.href?.url;
  return (
    <a
      className="hs-link"
      href={href ?? '#'}
      {...(href !== undefined ? { target: '_blank', rel: 'noreferrer' } : {})}
      onClick={(event) => {
        if (href === undefined) event.preventDefault();
        props.onClick?.();
      }}
      {...tid(props.testId)}
    >
      {props.children}
    </a>
  );
}

export function List(
  props: TestId & {
    children?: ReactNode;
    variant?: 'ordered' | 'unordered' | 'unordered-styled' | 'inline';
  },
) {
  const items = (Array.isArray(props.children) ? props.children : [props.children]).map(
    (child, i) => <li key={i}>{child}</li>,
  );
  return props.variant === 'ordered' ? (
    <ol className="hs-list" {...tid(props.testId)}>
      {items}
    </ol>
  ) : (
    <ul className="hs-list" {...tid(props.testId)}>
      {items}
    </ul>
  );
}

export function Image(
  props: TestId & { src: string; alt?: string; width?: number; height?: number },
) {
  return (
    <img
      className="hs-image"
      src={props.src}
      alt={props.alt ?? ''}
      {...(props.width !== undefined ? { width: props.width } : {})}
      {...(props.height !== undefined ? { height: props.height } : {})}
      {...tid(props.testId)}
    />
  );
}

// ---- feedback ---------------------------------------------------------------------------

export function Alert(
  props: Children &
    TestId & {
      title: string;
      variant?: 'info' | 'warning' | 'success' | 'error' | 'danger' | 'tip';
    },
) {
  const variant = props.variant === 'error' ? 'danger' : (props.variant ?? 'info');
  return (
    <div className={`hs-alert hs-alert-${variant}`} role="status" {...tid(props.testId)}>
      <div className="hs-alert-title">{props.title}</div>
      <div className="hs-alert-body">{props.children}</div>
    </div>
  );
}

type TagVariant = 'default' | 'info' | 'success' | 'warning' | 'danger' | 'error';

export function StatusTag(
  props: Children & TestId & { variant?: TagVariant; hollow?: boolean; onClick?: () => void },
) {
  const variant = props.variant === 'error' ? 'danger' : (props.variant ?? 'default');
  return (
    <span
      className={cls('hs-status-tag', `hs-status-${variant}`, props.hollow && 'hs-hollow')}
      {...tid(props.testId)}
    >
      <span className="hs-status-dot" aria-hidden="true" />
      {props.children}
    </span>
  );
}

export function Tag(props: Children & TestId & { variant?: TagVariant; onClick?: () => void }) {
  const variant = props.variant === 'error' ? 'danger' : (props.variant ?? 'default');
  return (
    <span className={`hs-tag hs-tag-${variant}`} {...tid(props.testId)}>
      {props.children}
    </span>
  );
}

export function LoadingSpinner(
  props: TestId & {
    label: string;
    showLabel?: boolean;
    size?: string;
    layout?: 'inline' | 'centered';
  },
) {
  return (
    <div
      className={cls('hs-spinner', props.layout === 'centered' && 'hs-centered')}
      role="status"
      {...tid(props.testId)}
    >
      <span className="hs-spinner-wheel" aria-hidden="true" />
      <span className="hs-spinner-label">{props.label}</span>
    </div>
  );
}

export function EmptyState(
  props: Children &
    TestId & {
      title?: string;
      layout?: 'horizontal' | 'vertical';
      flush?: boolean;
      reverseOrder?: boolean;
      imageWidth?: number;
    },
) {
  return (
    <div
      className={cls(
        'hs-empty',
        props.layout === 'vertical' && 'hs-vertical',
        props.flush && 'hs-flush',
      )}
      {...tid(props.testId)}
    >
      <div className="hs-empty-art" aria-hidden="true" />
      <div>
        {props.title ? <div className="hs-empty-title">{props.title}</div> : null}
        {props.children}
      </div>
    </div>
  );
}

export function ErrorState(props: Children & TestId & { title?: string; type?: string }) {
  return (
    <div className="hs-error-state" role="alert" {...tid(props.testId)}>
      <div className="hs-empty-title">{props.title ?? 'Something went wrong.'}</div>
      {props.children}
    </div>
  );
}

export function ProgressBar(
  props: TestId & {
    value?: number;
    maxValue?: number;
    title?: string;
    showPercentage?: boolean;
    variant?: string;
  },
) {
  const max = props.maxValue ?? 100;
  return (
    <div className="hs-progress" {...tid(props.testId)}>
      {props.title ? <div className="hs-label">{props.title}</div> : null}
      <progress value={props.value ?? 0} max={max} />
      {props.showPercentage ? <span> {Math.round(((props.value ?? 0) / max) * 100)}%</span> : null}
    </div>
  );
}

export function Statistics(props: Children & TestId) {
  return (
    <div className="hs-flex hs-statistics" {...tid(props.testId)}>
      {props.children}
    </div>
  );
}

export function StatisticsItem(
  props: Children & TestId & { label: string; number: string | number },
) {
  return (
    <div className="hs-statistic" {...tid(props.testId)}>
      <div className="hs-label">{props.label}</div>
      <div className="hs-statistic-number">{props.number}</div>
      {props.children}
    </div>
  );
}

// ---- buttons ----------------------------------------------------------------------------

type ButtonProps = Children &
  TestId & {
    onClick?: () => void;
    href?: string | { url: string };
    variant?: 'primary' | 'secondary' | 'destructive' | 'transparent';
    type?: 'button' | 'submit' | 'reset';
    disabled?: boolean;
    size?: string;
  };

function buttonElement(props: ButtonProps, extra: { loading?: boolean } = {}) {
  const className = cls(
    'hs-button',
    `hs-button-${props.variant ?? 'secondary'}`,
    extra.loading && 'hs-loading',
  );
  const href = typeof props.href === 'string' ? props.href : props.href?.url;
  if (href !== undefined) {
    return (
      <a className={className} href={href} target="_blank" rel="noreferrer" {...tid(props.testId)}>
        {props.children}
      </a>
    );
  }
  return (
    <button
      className={className}
      type={props.type ?? 'button'}
      disabled={props.disabled === true}
      aria-busy={extra.loading === true ? 'true' : undefined}
      onClick={() => {
        props.onClick?.();
      }}
      {...tid(props.testId)}
    >
      {extra.loading ? <span className="hs-spinner-wheel hs-small" aria-hidden="true" /> : null}
      {props.children}
    </button>
  );
}

export function Button(props: ButtonProps) {
  return buttonElement(props);
}

export function LoadingButton(props: ButtonProps & { loading?: boolean; resultIconName?: string }) {
  return buttonElement(props, { loading: props.loading === true });
}

// ---- tables -----------------------------------------------------------------------------

export function Table(props: Children & TestId & { bordered?: boolean; flush?: boolean }) {
  return (
    <table
      className={cls('hs-table', props.bordered !== false && 'hs-bordered')}
      {...tid(props.testId)}
    >
      {props.children}
    </table>
  );
}
export function TableHead(props: Children & TestId) {
  return <thead {...tid(props.testId)}>{props.children}</thead>;
}
export function TableBody(props: Children & TestId) {
  return <tbody {...tid(props.testId)}>{props.children}</tbody>;
}
export function TableFooter(props: Children & TestId) {
  return <tfoot {...tid(props.testId)}>{props.children}</tfoot>;
}
export function TableRow(props: Children & TestId) {
  return <tr {...tid(props.testId)}>{props.children}</tr>;
}
export function TableHeader(props: Children & TestId & { width?: string | number }) {
  return <th {...tid(props.testId)}>{props.children}</th>;
}
export function TableCell(props: Children & TestId & { width?: string | number }) {
  return <td {...tid(props.testId)}>{props.children}</td>;
}

export function DescriptionList(props: Children & TestId & { direction?: 'row' | 'column' }) {
  return (
    <dl
      className={cls('hs-dl', props.direction === 'column' && 'hs-column')}
      {...tid(props.testId)}
    >
      {props.children}
    </dl>
  );
}
export function DescriptionListItem(props: Children & TestId & { label: string }) {
  return (
    <div className="hs-dl-item" {...tid(props.testId)}>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

// ---- forms ------------------------------------------------------------------------------

export function Form(
  props: Children &
    TestId & {
      onSubmit?: (event: { targetValue: Record<string, string> }) => void;
      autoComplete?: string;
    },
) {
  return (
    <form
      className="hs-form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const form = event.target as HTMLFormElement;
        const values = Object.fromEntries(
          [...new FormData(form).entries()].map(([k, v]) => [
            k,
            typeof v === 'string' ? v : v.name,
          ]),
        );
        props.onSubmit?.({ targetValue: values });
      }}
      {...tid(props.testId)}
    >
      {props.children}
    </form>
  );
}

type FieldProps = TestId & {
  label: string;
  name: string;
  description?: string;
  tooltip?: string;
  required?: boolean;
  readOnly?: boolean;
  error?: boolean;
  validationMessage?: string;
};

let fieldCount = 0;
function useFieldId(name: string): string {
  const [id] = useState(() => `hs-field-${name}-${++fieldCount}`);
  return id;
}

function Field(props: FieldProps & { id: string; children: ReactNode }) {
  return (
    <div className={cls('hs-field', props.error && 'hs-field-error')}>
      <label className="hs-label" htmlFor={props.id}>
        {props.label}
        {props.required ? <span aria-hidden="true"> *</span> : null}
      </label>
      {props.description ? <div className="hs-microcopy">{props.description}</div> : null}
      {props.children}
      {props.error && props.validationMessage ? (
        <div className="hs-validation" role="alert">
          {props.validationMessage}
        </div>
      ) : null}
    </div>
  );
}

/**
 * HubSpot commits `onChange` on blur or submit and reports keystrokes as `onInput`; the
 * sandbox calls both on each keystroke, so a value is never lost to a submit without blur.
 */
export function Input(
  props: FieldProps & {
    value?: string;
    defaultValue?: string;
    placeholder?: string;
    type?: 'text' | 'password';
    onChange?: (value: string) => void;
    onInput?: (value: string) => void;
    onBlur?: (value: string) => void;
    onFocus?: (value: string) => void;
  },
) {
  const id = useFieldId(props.name);
  return (
    <Field {...props} id={id}>
      <input
        id={id}
        className="hs-input"
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value ?? props.defaultValue ?? ''}
        placeholder={props.placeholder}
        readOnly={props.readOnly === true}
        aria-invalid={props.error ? 'true' : undefined}
        onInput={(event) => {
          const value = (event.target as HTMLInputElement).value;
          props.onInput?.(value);
          props.onChange?.(value);
        }}
        onBlur={(event) => {
          props.onBlur?.(event.target.value);
        }}
        {...tid(props.testId)}
      />
    </Field>
  );
}

export function TextArea(
  props: FieldProps & {
    value?: string;
    defaultValue?: string;
    placeholder?: string;
    rows?: number;
    onChange?: (value: string) => void;
    onInput?: (value: string) => void;
  },
) {
  const id = useFieldId(props.name);
  return (
    <Field {...props} id={id}>
      <textarea
        id={id}
        className="hs-input"
        name={props.name}
        rows={props.rows ?? 3}
        value={props.value ?? props.defaultValue ?? ''}
        placeholder={props.placeholder}
        readOnly={props.readOnly === true}
        onInput={(event) => {
          const value = (event.target as HTMLTextAreaElement).value;
          props.onInput?.(value);
          props.onChange?.(value);
        }}
        {...tid(props.testId)}
      />
    </Field>
  );
}

export function NumberInput(
  props: FieldProps & {
    value?: number;
    defaultValue?: number;
    min?: number;
    max?: number;
    onChange?: (value: number) => void;
  },
) {
  const id = useFieldId(props.name);
  return (
    <Field {...props} id={id}>
      <input
        id={id}
        className="hs-input"
        name={props.name}
        type="number"
        value={props.value ?? props.defaultValue ?? ''}
        min={props.min}
        max={props.max}
        readOnly={props.readOnly === true}
        onInput={(event) => {
          const value = Number((event.target as HTMLInputElement).value);
          if (!Number.isNaN(value)) props.onChange?.(value);
        }}
        {...tid(props.testId)}
      />
    </Field>
  );
}

type OptionValue = string | number | boolean;

export function Select(
  props: FieldProps & {
    value?: OptionValue;
    placeholder?: string;
    options: ReadonlyArray<{ label: string; value: OptionValue }>;
    onChange?: (value: OptionValue) => void;
  },
) {
  const id = useFieldId(props.name);
  return (
    <Field {...props} id={id}>
      <select
        id={id}
        className="hs-input"
        name={props.name}
        value={props.value === undefined ? '' : String(props.value)}
        disabled={props.readOnly === true}
        onChange={(event) => {
          const raw = event.target.value;
          const option = props.options.find((o) => String(o.value) === raw);
          if (option) props.onChange?.(option.value);
        }}
        {...tid(props.testId)}
      >
        {props.value === undefined ? (
          <option value="">{props.placeholder ?? 'Select'}</option>
        ) : null}
        {props.options.map((option) => (
          <option key={String(option.value)} value={String(option.value)}>
            {option.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

export function MultiSelect(
  props: FieldProps & {
    value?: readonly OptionValue[];
    placeholder?: string;
    options: ReadonlyArray<{ label: string; value: OptionValue }>;
    onChange?: (value: OptionValue[]) => void;
  },
) {
  const id = useFieldId(props.name);
  const chosen = new Set((props.value ?? []).map(String));
  return (
    <Field {...props} id={id}>
      <select
        id={id}
        className="hs-input"
        name={props.name}
        multiple
        value={[...chosen]}
        disabled={props.readOnly === true}
        onChange={(event) => {
          const picked = new Set(Array.from(event.target.selectedOptions, (o) => o.value));
          props.onChange?.(
            props.options.filter((o) => picked.has(String(o.value))).map((o) => o.value),
          );
        }}
        {...tid(props.testId)}
      >
        {props.options.map((option) => (
          <option key={String(option.value)} value={String(option.value)}>
            {option.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

export function Checkbox(
  props: Children &
    TestId & {
      name?: string;
      value?: string;
      checked?: boolean;
      initialIsChecked?: boolean;
      readOnly?: boolean;
      description?: string;
      inline?: boolean;
      variant?: string;
      onChange?: (checked: boolean, value: string) => void;
    },
) {
  const [own, setOwn] = useState(props.initialIsChecked === true);
  const checked = props.checked ?? own;
  return (
    <label className={cls('hs-checkbox', props.readOnly && 'hs-readonly')}>
      <input
        type="checkbox"
        name={props.name}
        value={props.value}
        checked={checked}
        disabled={props.readOnly === true}
        aria-readonly={props.readOnly === true ? 'true' : undefined}
        onChange={(event) => {
          const next = event.target.checked;
          if (props.checked === undefined) setOwn(next);
          // Controlled: the DOM shows what the extension says, not the click.
          else event.target.checked = props.checked;
          props.onChange?.(next, props.value ?? '');
        }}
        {...tid(props.testId)}
      />
      <span>
        <span className="hs-checkbox-label">{props.children}</span>
        {props.description ? (
          <span className="hs-microcopy hs-block">{props.description}</span>
        ) : null}
      </span>
    </label>
  );
}

export function Toggle(
  props: TestId & {
    name?: string;
    label: string;
    checked?: boolean;
    initialIsChecked?: boolean;
    readonly?: boolean;
    labelDisplay?: 'inline' | 'top' | 'hidden';
    onChange?: (checked: boolean) => void;
  },
) {
  const [own, setOwn] = useState(props.initialIsChecked === true);
  const checked = props.checked ?? own;
  return (
    <label className="hs-toggle">
      <input
        type="checkbox"
        role="switch"
        name={props.name}
        checked={checked}
        disabled={props.readonly === true}
        onChange={(event) => {
          const next = event.target.checked;
          if (props.checked === undefined) setOwn(next);
          else event.target.checked = props.checked;
          props.onChange?.(next);
        }}
        {...tid(props.testId)}
      />
      <span className={props.labelDisplay === 'hidden' ? 'hs-visually-hidden' : ''}>
        {props.label}
      </span>
    </label>
  );
}
