/**
 * zod schemas for every HubSpot wire shape this app sends or receives. The sandbox does NOT
 * share them: it keeps its own, written from HubSpot's docs (`sandbox/wire.ts`), so a wrong
 * field here fails against it instead of being mirrored on both sides.
 */
export * from './automation.ts';
export * from './crm.ts';
export * from './errors.ts';
export * from './files.ts';
export * from './oauth.ts';
export * from './pipelines.ts';
export * from './properties.ts';
export * from './webhooks.ts';
export * from './deal-context.ts';
