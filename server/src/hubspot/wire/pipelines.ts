import { z } from 'zod';

/**
 * `PipelineStage`. `metadata` values are strings on the wire (`{ isClosed: 'true',
 * probability: '0.0' }` for deal stages).
 */
export const PipelineStageSchema = z.object({
  id: z.string(),
  label: z.string(),
  /** The stage's place in its pipeline (routing rules' "this stage or any later one"). */
  displayOrder: z.number().optional(),
  metadata: z.record(z.string(), z.string()),
});
export type PipelineStage = z.infer<typeof PipelineStageSchema>;

/** `Pipeline`. */
export const PipelineSchema = z.object({
  id: z.string(),
  label: z.string(),
  stages: z.array(PipelineStageSchema),
});
export type Pipeline = z.infer<typeof PipelineSchema>;

/** `GET /crm/pipelines/{v}/deals`. */
export const PipelineListSchema = z.object({ results: z.array(PipelineSchema) });
export type PipelineList = z.infer<typeof PipelineListSchema>;

/** `GET /crm/pipelines/{v}/deals/{pipelineId}/stages`. */
export const PipelineStageListSchema = z.object({ results: z.array(PipelineStageSchema) });
export type PipelineStageList = z.infer<typeof PipelineStageListSchema>;

/** Whether a deal stage is closed (won or lost), from its string metadata. */
export function isClosedStage(stage: PipelineStage): boolean {
  return stage.metadata.isClosed === 'true';
}
