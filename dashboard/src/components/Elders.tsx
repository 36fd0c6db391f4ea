/**
 * 老人档案 (issue 20), for admins and installers: the list (search, filters, paging) and one elder's file to create
 * or edit (identity, photo, contacts, map and geofences, rules and response plan, timeline, devices). The list keeps
 * its search while a file is open. Everything from the data is rendered as text.
 */
import { useState } from 'preact/hooks';
import type { ElderQuery } from '../elders-admin';
import { ElderEditor } from './elders/ElderEditor';
import { ElderList } from './elders/ElderList';

export function Elders() {
  const [open, setOpen] = useState<number | 'new' | null>(null);
  const [query, setQuery] = useState<ElderQuery>({ q: '', area: '', category: '', offset: 0, limit: 20 });
  return (
    <main class="elders-view" data-testid="elders-screen">
      {open === null ? (
        <ElderList query={query} setQuery={setQuery} onOpen={setOpen} />
      ) : (
        <ElderEditor key={String(open)} id={open === 'new' ? null : open} onClose={() => setOpen(null)} onCreated={(id) => setOpen(id)} />
      )}
    </main>
  );
}
