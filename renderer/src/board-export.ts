/**
 * Exports the board (issue 18 §4): SVG is the document board-draw.ts writes;
 * PNG rasterises that same document at twice its size on a canvas (loaded
 * as a data: URL, which the UI's CSP allows for images). The file is
 * offered as a download named after the group.
 */
import type { BoardObject } from '../../app/api/board-model.js';
import { boardSvg } from './board-draw.js';

const PNG_SCALE = 2;
const MAX_PNG_SIDE = 8192;

function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const fileName = (group: string, ext: string): string => `${(group.trim() || 'board').replace(/[^\p{L}\p{N} _-]+/gu, '').slice(0, 60) || 'board'} board.${ext}`;

export async function exportBoard(objects: readonly BoardObject[], format: 'png' | 'svg', groupName: string): Promise<void> {
  const { svg, width, height } = boardSvg(objects);
  if (format === 'svg') return download(new Blob([svg], { type: 'image/svg+xml' }), fileName(groupName, 'svg'));
  const scale = Math.min(PNG_SCALE, MAX_PNG_SIDE / Math.max(width, height));
  // A data: URL, not a blob: one: the UI's CSP allows images from 'self' and data: only (app/ui-serving/csp.ts).
  const img = new Image();
  await new Promise<void>((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = () => reject(new Error('the board could not be drawn'));
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  });
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas');
  ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('PNG encoding failed');
  download(blob, fileName(groupName, 'png'));
}
