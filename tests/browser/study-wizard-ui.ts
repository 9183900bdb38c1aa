import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { STUDY_STEP_IDS, type StudyStepId } from '../../main/project/study-types.ts';

/** What the guided study's browser tests do in its wizard (StudyWizard.svelte), by data-testid. */

/** A step's status as its button shows it: done, stale, never-run, cancelled. */
export const studyStatus = (page: Page, step: StudyStepId): Promise<string | null> => page.getAttribute(`[data-testid="study-step-${step}"]`, 'data-status');

/** Every step's status, keyed by step. */
export const studyStatuses = async (page: Page): Promise<Record<string, string | null>> =>
  Object.fromEntries(await Promise.all(STUDY_STEP_IDS.map(async (id) => [id, await studyStatus(page, id)])));

/** Opens a step and runs it; waits until it is done, or fails with the error the wizard shows. */
export async function runStudyStep(page: Page, step: StudyStepId): Promise<void> {
  await page.click(`[data-testid="study-step-${step}"]`);
  await page.click('[data-testid="study-run-step"]');
  // An error shown by the wizard ends the wait with its text (a failing step names its cause).
  const errorOrStatus = async (): Promise<string | null> => ((await page.locator('[data-testid="study-error"]').count()) > 0 ? page.textContent('[data-testid="study-error"]') : studyStatus(page, step));
  await expect.poll(errorOrStatus, { timeout: 240_000, interval: 500 }).toBe('done');
}

/** Sets a step option (the pane's inputs apply on `change`). */
export async function setStudyOption(page: Page, testid: string, value: string): Promise<void> {
  await page.fill(`[data-testid="${testid}"]`, value);
  await page.locator(`[data-testid="${testid}"]`).dispatchEvent('change');
}
