import { OrgState } from './OrgState';

const USER = '#microsoft.graph.user';
const GROUP = '#microsoft.graph.group';

describe('OrgState', () => {
  it('merges a group whose members come over several pages, and drops removed members', () => {
    const s = new OrgState();
    s.applyGroup({
      id: 'g1',
      displayName: 'Big',
      'members@delta': [
        { '@odata.type': USER, id: 'u1' },
        { '@odata.type': USER, id: 'u2' },
      ],
    });
    s.applyGroup({
      id: 'g1',
      displayName: 'Big',
      'members@delta': [
        { '@odata.type': USER, id: 'u3' },
        { '@odata.type': GROUP, id: 'g2' },
      ],
    });
    expect([...s.members.get('g1')!]).toEqual(['u1', 'u2', 'u3', 'g2']);

    // A later round: only the changes.
    s.applyGroup({
      id: 'g1',
      'members@delta': [
        { '@odata.type': USER, id: 'u2', '@removed': { reason: 'deleted' } },
        { '@odata.type': USER, id: 'u4' },
      ],
    });
    expect([...s.members.get('g1')!].sort()).toEqual(['g2', 'u1', 'u3', 'u4']);
    expect(s.groups.get('g1')!.displayName).toBe('Big');
    expect(s.membershipCount).toBe(4);
  });

  it('keeps only users and groups as members', () => {
    const s = new OrgState();
    s.applyGroup({
      id: 'g1',
      'members@delta': [
        { '@odata.type': '#microsoft.graph.device', id: 'd1' },
        { '@odata.type': '#microsoft.graph.servicePrincipal', id: 'sp1' },
        { '@odata.type': USER, id: 'u1' },
      ],
    });
    expect([...s.members.get('g1')!]).toEqual(['u1']);
  });

  it('lets the later copy of an object win, property by property', () => {
    const s = new OrgState();
    s.applyUser({
      id: 'u1',
      displayName: 'Jo',
      userPrincipalName: 'jo@x.example',
      jobTitle: 'Engineer',
      mail: 'jo@x.example',
    });
    // Graph may send only what changed; a null is a value.
    s.applyUser({ id: 'u1', displayName: 'Jo Smith', mail: null });
    expect(s.users.get('u1')).toEqual({
      id: 'u1',
      displayName: 'Jo Smith',
      userPrincipalName: 'jo@x.example',
      jobTitle: 'Engineer',
      mail: null,
    });
  });

  it('removes objects marked @removed, with their memberships for a group', () => {
    const s = new OrgState();
    s.applyUser({ id: 'u1', userPrincipalName: 'a@x.example' });
    s.applyGroup({ id: 'g1', 'members@delta': [{ id: 'u1' }] });
    s.applyUser({ id: 'u1', '@removed': { reason: 'changed' } });
    s.applyGroup({ id: 'g1', '@removed': { reason: 'deleted' } });
    expect(s.users.size).toBe(0);
    expect(s.groups.size).toBe(0);
    expect(s.members.size).toBe(0);
    // Removing what is not there is no error (a round may repeat a removal).
    s.applyUser({ id: 'u9', '@removed': { reason: 'deleted' } });
  });

  it('survives its stored JSON form unchanged', () => {
    const s = new OrgState();
    s.applyUser({
      id: 'u1',
      userPrincipalName: 'a@x.example',
      accountEnabled: false,
    });
    s.applyGroup({
      id: 'g1',
      groupTypes: ['Unified'],
      'members@delta': [{ id: 'u1' }],
    });
    s.applyGroup({ id: 'g2' });
    const json = JSON.parse(JSON.stringify(s.toJSON()));
    expect(json.users.u1).toEqual({
      userPrincipalName: 'a@x.example',
      accountEnabled: false,
    });
    const back = OrgState.fromJSON(json);
    expect(back.users).toEqual(s.users);
    expect(back.groups).toEqual(s.groups);
    s.seal();
    expect(back.members).toEqual(s.members);
  });

  it('keeps sealed members as arrays; a later change works on a set again, without duplicates', () => {
    const s = new OrgState();
    s.applyGroup({ id: 'g1', 'members@delta': [{ id: 'u1' }, { id: 'u2' }] });
    expect(s.members.get('g1')).toBeInstanceOf(Set);
    s.seal(['g1']);
    expect(s.members.get('g1')).toEqual(['u1', 'u2']);
    s.applyGroup({
      id: 'g1',
      'members@delta': [
        { id: 'u2' },
        { id: 'u3' },
        { id: 'u1', '@removed': {} },
      ],
    });
    expect(s.members.get('g1')).toBeInstanceOf(Set);
    expect(s.memberIds('g1')).toEqual(['u2', 'u3']);
    expect(s.membershipCount).toBe(2);
    s.seal();
    expect(s.members.get('g1')).toEqual(['u2', 'u3']);
    expect(s.membershipCount).toBe(2);
  });
});
