/**
 * zod schemas for every HubSpot wire shape this app sends or receives. The sandbox builds its
 * answers with these types and the app's HubSpot client parses with these schemas, so the two
 * cannot drift apart.
 */
export * from './automation.ts';
export * from './crm.ts';
export * from './errors.ts';
export * from './files.ts';
export * from './oauth.ts';
export * from './pipelines.ts';
export * from './properties.ts';
export * from './webhooks.ts';
