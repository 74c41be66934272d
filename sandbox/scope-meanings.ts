/**
 * What a scope lets an app do, in the words a HubSpot consent screen uses: the sandbox's
 * consent page lists these, with the scope's name beside them for developers.
 */
const KNOWN: Readonly<Record<string, string>> = {
  oauth: 'Identify you and this account to the app (every app asks for this)',
  files: 'View and upload files in the file manager',
  'files.ui_hidden.read':
    'View files attached to records, including ones hidden from the file manager',
  automation: 'Use workflows, including the app’s own workflow actions',
  tickets: 'View and edit tickets',
  'crm.objects.owners.read': 'View record owners',
};

const OBJECT_SCOPE = /^crm\.(objects|schemas)\.([a-z_]+)\.(read|write)$/;

/** A scope's meaning; the scope itself when the sandbox does not know it. */
export function scopeMeaning(scope: string): string {
  const known = KNOWN[scope];
  if (known !== undefined) return known;
  const match = OBJECT_SCOPE.exec(scope);
  if (!match) return scope;
  const [, kind, object = '', access] = match;
  const name = object.replaceAll('_', ' ');
  if (kind === 'objects') return access === 'read' ? `View ${name}` : `Create and edit ${name}`;
  return access === 'read'
    ? `View the properties of ${name}`
    : `Create and edit the properties of ${name}`;
}
