/**
 * Free text typed by people (notes, medical history, access notes) can be thousands of characters: shown as text,
 * cut after a few lines with the whole text in the title, and a click shows it all (and a second click cuts it again).
 */
import { useState } from 'preact/hooks';

/** Roughly how many characters fit a line of the file's narrower column. */
const PER_LINE = 36;

export function LongText({ text, lines = 4, class: cls = '', testid }: { text: string; lines?: 2 | 3 | 4 | 6 | 8; class?: string; testid?: string }) {
  const [open, setOpen] = useState(false);
  if (text.length <= lines * PER_LINE && !text.includes('\n')) {
    return (
      <span class={cls} data-testid={testid}>
        {text}
      </span>
    );
  }
  return (
    <span
      class={`${cls} long-text clamp-${lines} ${open ? 'open' : ''}`}
      title={open ? undefined : text}
      aria-expanded={open}
      onClick={(e) => {
        // a selection is not a click to fold
        if (window.getSelection()?.toString()) return;
        e.stopPropagation();
        setOpen((o) => !o);
      }}
      data-testid={testid}
    >
      {text}
    </span>
  );
}
