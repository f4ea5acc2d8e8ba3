"""Destroy (ruin) seed operators.

Each follows the ``destroy`` role of :mod:`ahd.problems.engine.signatures`: unassign at most
``n_remove`` customers (at least one while any customer is assigned), write them to
``removed[0:k]`` and return ``k``. Routes may be left empty; the engine compacts them.

The operators only read the solution through ``sol``'s arrays and change it through
``remove_customer``, so they work for TSP (one route), CVRP and OVRP (free return arcs, which
``inst.dist`` already encodes). Randomness comes from ``np.random`` so the engine's seed
controls it in both jitted and plain-Python mode.

The module is over 400 lines on purpose: :mod:`ahd.problems.operators.standalone` cuts each
seed out together with the helpers and constants it uses *from this module*, so a seed and its
helpers must stay in one file.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..engine.state import next_node, prev_node, remove_customer
from .registry import register

#: Ropke & Pisinger's randomisation exponent for worst removal: rank = floor(y**p * |L|).
WORST_P = 3.0
#: Ropke & Pisinger's (stronger) randomisation exponent for Shaw removal.
RELATED_P = 6.0
#: Weight of the demand difference in Shaw relatedness, relative to distance measured in units
#: of the reference customer's 10th-neighbour distance (so it only reorders nearby customers).
RELATED_DEMAND_WEIGHT = 0.5
RELATED_SCALE_NEIGHBOUR = 10
#: Ranks below this (and below half the neighbour list) are taken from the neighbour list;
#: with p = 6 that covers most picks (P(rank < 16 | 400 candidates) ~ 0.58).
RELATED_SMALL_RANK = 16
#: Larger ranks are read off the same quantile of this many randomly sampled customers.
RELATED_SAMPLE = 32
#: SISR ruin parameters (Christiaens & Vanden Berghe 2020): average removed customers, maximum
#: string cardinality, probability of the split-string procedure, and the split depth (the
#: chance to stop growing the preserved substring at each step).
SISR_CBAR = 10.0
SISR_LMAX = 10.0
SISR_SPLIT_PROB = 0.5
SISR_SPLIT_DEPTH = 0.01
#: Probability that route removal takes the smallest routes first instead of random ones.
ROUTE_SMALLEST_PROB = 0.5
#: Routes up to this length are split by an exact single-linkage (MST) clustering, O(len^2);
#: longer ones (TSP tours) by a linear two-seed split.
CLUSTER_MST_MAX = 64


# --------------------------------------------------------------------------- shared helpers


@njit(cache=True)
def _assigned_count(sol):
    """Customers currently in routes, from the route lengths (O(routes), not O(n))."""
    k = 0
    for r in range(sol.nroutes[0]):
        k += sol.lengths[r]
    return k


@njit(cache=True)
def _random_assigned(sol, total):
    """A uniformly random assigned customer, found by walking route lengths (no rejection)."""
    t = np.random.randint(0, total)
    for r in range(sol.nroutes[0]):
        ln = sol.lengths[r]
        if t < ln:
            return sol.routes[r, t]
        t -= ln
    return -1


@njit(cache=True)
def _assigned_list(sol, total):
    """All assigned customers in route order, as a fresh array of length ``total``."""
    out = np.empty(max(total, 1), np.int64)
    k = 0
    for r in range(sol.nroutes[0]):
        for i in range(sol.lengths[r]):
            out[k] = sol.routes[r, i]
            k += 1
    return out


@njit(cache=True)
def _removal_gain(inst, sol, c):
    """Travel cost saved by taking c out of its route."""
    a = prev_node(sol, c)
    b = next_node(sol, c)
    return inst.dist[a, c] + inst.dist[c, b] - inst.dist[a, b]


@njit(cache=True)
def _select(key, item, length, kth):
    """Quickselect on ``key[0:length]`` (permuting ``item`` alongside): afterwards
    ``item[kth]`` has the kth smallest key and ``item[0:kth]`` the smaller ones.

    Linear on average; cluster removal uses it to keep the members nearest a random one when a
    cluster exceeds the removal budget, where the order among them does not matter.
    """
    lo = 0
    hi = length - 1
    while lo < hi:
        piv = key[lo + np.random.randint(0, hi - lo + 1)]
        i = lo
        j = hi
        while i <= j:
            while key[i] < piv:
                i += 1
            while key[j] > piv:
                j -= 1
            if i <= j:
                tk = key[i]
                key[i] = key[j]
                key[j] = tk
                ti = item[i]
                item[i] = item[j]
                item[j] = ti
                i += 1
                j -= 1
        if kth <= j:
            hi = j
        elif kth >= i:
            lo = i
        else:
            return


@njit(cache=True, inline="always")
def _shaw_key(dist, r, demand, dr, inv, wq, c):
    """Shaw relatedness of c to the reference customer r (smaller is more related)."""
    return dist[r, c] * inv + wq * abs(dr - demand[c])


@njit(cache=True, inline="always")
def _sorted_insert(bk, bi, cnt, v, x):
    """Insert key v (item x) into the ascending buffer ``bk[0:cnt]``; returns the new count."""
    j = cnt
    while j > 0 and bk[j - 1] > v:
        bk[j] = bk[j - 1]
        bi[j] = bi[j - 1]
        j -= 1
    bk[j] = v
    bi[j] = x
    return cnt + 1


@njit(cache=True)
def _sift(order, rank, key, j, length):
    """Move ``order[j]`` to its place in the ascending-``key`` order, keeping ``rank`` in step.

    Only two removal gains change per removal, so moving them beats re-sorting.
    """
    x = order[j]
    kx = key[x]
    while j > 0 and key[order[j - 1]] > kx:
        y = order[j - 1]
        order[j] = y
        rank[y] = j
        j -= 1
    while j < length - 1 and key[order[j + 1]] < kx:
        y = order[j + 1]
        order[j] = y
        rank[y] = j
        j += 1
    order[j] = x
    rank[x] = j


@njit(cache=True)
def _remove_span(inst, sol, r, start, stop, removed, k):
    """Remove positions ``start..stop-1`` of route r (back to front, fewer shifts)."""
    cnt = stop - start
    for i in range(cnt):
        removed[k + i] = sol.routes[r, start + i]
    for i in range(cnt - 1, -1, -1):
        remove_customer(inst, sol, removed[k + i])
    return k + cnt


# --------------------------------------------------------------------------- operators


@register("destroy", "random_removal")
def random_removal(inst, sol, n_remove, removed):
    """Remove ``n_remove`` uniformly random customers.

    The diversification baseline of ALNS: it ignores structure, so it breaks patterns the
    structured removals keep rebuilding. Rejection sampling keeps it O(n_remove) when few
    customers go; a partial shuffle handles large removals.
    """
    total = _assigned_count(sol)
    q = min(n_remove, total)
    if q <= 0:
        return 0
    n = inst.n
    if 2 * q <= total and 2 * total >= n:
        k = 0
        while k < q:
            c = np.random.randint(1, n + 1)
            if sol.route_of[c] >= 0:
                remove_customer(inst, sol, c)
                removed[k] = c
                k += 1
        return q
    pool = _assigned_list(sol, total)
    for i in range(q):
        j = np.random.randint(i, total)
        c = pool[j]
        pool[j] = pool[i]
        pool[i] = c
        removed[i] = c
        remove_customer(inst, sol, c)
    return q


@register("destroy", "worst_removal")
def worst_removal(inst, sol, n_remove, removed):
    """Remove customers whose removal saves most, randomised (Ropke & Pisinger 2006).

    Customers are kept sorted by removal gain; each pick takes rank ``floor(y**p * |L|)`` from
    the top with ``p = WORST_P``, so badly placed customers go first but not deterministically.
    Gains are exact after every removal: only the two former neighbours change, and they are
    re-sifted in place instead of re-sorting.
    """
    total = _assigned_count(sol)
    q = min(n_remove, total)
    if q <= 0:
        return 0
    n = inst.n
    pool = _assigned_list(sol, total)
    gain = np.zeros(n + 1)
    keys = np.empty(total)
    dist = inst.dist
    m = 0
    for r in range(sol.nroutes[0]):  # inline walk: a call per customer would cost 3x more
        a = 0
        ln = sol.lengths[r]
        for i in range(ln):
            c = sol.routes[r, i]
            b = sol.routes[r, i + 1] if i + 1 < ln else 0
            g = dist[a, c] + dist[c, b] - dist[a, b]
            gain[c] = g
            keys[m] = g
            m += 1
            a = c
    order = pool[np.argsort(keys)]
    rank = np.zeros(n + 1, np.int64)
    for i in range(total):
        rank[order[i]] = i
    length = total
    for k in range(q):
        j = length - 1 - int(np.random.random() ** WORST_P * length)
        c = order[j]
        for t in range(j, length - 1):
            y = order[t + 1]
            order[t] = y
            rank[y] = t
        length -= 1
        a = prev_node(sol, c)
        b = next_node(sol, c)
        remove_customer(inst, sol, c)
        removed[k] = c
        if a != 0:
            gain[a] = _removal_gain(inst, sol, a)
            _sift(order, rank, gain, rank[a], length)
        if b != 0:
            gain[b] = _removal_gain(inst, sol, b)
            _sift(order, rank, gain, rank[b], length)
    return q


@register("destroy", "related_removal")
def related_removal(inst, sol, n_remove, removed):
    """Shaw removal: customers related (close, similar demand) to already removed ones.

    Related customers are cheap to exchange between routes, so removing them together lets the
    repair reshuffle them. Each pick relates the remaining customers to a random already
    removed one and takes rank ``floor(y**p * |L|)`` (``p = RELATED_P``, Ropke & Pisinger).
    Distance is measured in units of that customer's 10th-neighbour distance, which adapts to
    local density; demand enters with a small weight so it only reorders near customers.

    Ranks are found cheaply rather than by sorting all customers on every pick: small ranks
    (most picks, as p = 6) among the customer's neighbour list, larger ones as the same
    quantile of a random sample of ``RELATED_SAMPLE`` customers; only if the neighbour list
    runs short does a pick scan every customer. A pick thus costs O(neighbours), not O(n).
    """
    total = _assigned_count(sol)
    q = min(n_remove, total)
    if q <= 0:
        return 0
    n = inst.n
    seed = _random_assigned(sol, total)
    remove_customer(inst, sol, seed)
    removed[0] = seed
    k = 1
    length = total - 1
    if q == 1:
        return 1
    pool = _assigned_list(sol, length)
    where = np.zeros(n + 1, np.int64)
    for i in range(length):
        where[pool[i]] = i
    nb = inst.neighbors.shape[1]
    bk = np.empty(max(nb, RELATED_SAMPLE) + 1)
    bi = np.empty(max(nb, RELATED_SAMPLE) + 1, np.int64)
    qmax = 0.0
    for c in range(1, n + 1):
        if inst.demand[c] > qmax:
            qmax = inst.demand[c]
    wq = RELATED_DEMAND_WEIGHT / qmax if qmax > 0.0 else 0.0
    dist = inst.dist
    demand = inst.demand
    route_of = sol.route_of
    col = min(RELATED_SCALE_NEIGHBOUR, nb) - 1
    small = min(RELATED_SMALL_RANK, nb // 2)
    while k < q:
        r = removed[np.random.randint(0, k)]
        scale = dist[r, inst.neighbors[r, col]]
        inv = 1.0 / scale if scale > 0.0 else 1.0
        dr = demand[r]
        pick = int(np.random.random() ** RELATED_P * length)
        c = -1
        if pick < small:
            cnt = 0
            seen = 0
            for j in range(nb):
                x = inst.neighbors[r, j]
                if route_of[x] < 0:
                    continue
                seen += 1
                v = _shaw_key(dist, r, demand, dr, inv, wq, x)
                if cnt <= pick:
                    cnt = _sorted_insert(bk, bi, cnt, v, x)
                elif v < bk[pick]:
                    _sorted_insert(bk, bi, pick, v, x)
            if seen > 2 * pick:  # keep the rank estimate away from the list's ragged end
                c = bi[pick]
        elif length > RELATED_SAMPLE:
            for j in range(RELATED_SAMPLE):
                x = pool[np.random.randint(0, length)]
                _sorted_insert(bk, bi, j, _shaw_key(dist, r, demand, dr, inv, wq, x), x)
            c = bi[pick * RELATED_SAMPLE // length]
        if c < 0:  # exact, one pass keeping the pick + 1 smallest keys (pick <= SAMPLE here)
            cnt = 0
            for i in range(length):
                x = pool[i]
                v = _shaw_key(dist, r, demand, dr, inv, wq, x)
                if cnt <= pick:
                    cnt = _sorted_insert(bk, bi, cnt, v, x)
                elif v < bk[pick]:
                    _sorted_insert(bk, bi, pick, v, x)
            c = bi[pick]
        at = where[c]
        length -= 1
        y = pool[length]
        pool[at] = y
        where[y] = at
        remove_customer(inst, sol, c)
        removed[k] = c
        k += 1
    return q


@register("destroy", "string_removal")
def string_removal(inst, sol, n_remove, removed):
    """SISR ruin (Christiaens & Vanden Berghe 2020): strings from routes near a seed customer.

    Removing consecutive customers from several neighbouring routes creates the "slack" that
    lets the repair rebuild those routes' overlap differently. Follows the paper: string
    cardinality ``l_max = min(L_MAX, mean route length)``, number of strings
    ``k_s = floor(U(1, 4 c̄ / (1 + l_max)))``; routes are visited through the seed's neighbour
    list (seed first), each ruined once, by the *string* procedure (l consecutive customers
    containing the found customer) or, with probability ``SISR_SPLIT_PROB``, the *split-string*
    procedure (a window of l + m customers of which a random m-substring is kept, m growing
    while ``U >= SISR_SPLIT_DEPTH``). ``n_remove`` caps the total; strings are truncated to it.
    With a single route (TSP) the one-string-per-route rule would leave one string per call,
    so there the k_s strings all come from the tour, around successive neighbours of the seed.
    """
    total = _assigned_count(sol)
    q = min(n_remove, total)
    if q <= 0:
        return 0
    nr = sol.nroutes[0]
    used = 0
    for r in range(nr):
        if sol.lengths[r] > 0:
            used += 1
    ls_max = min(SISR_LMAX, total / used)
    ks_max = 4.0 * SISR_CBAR / (1.0 + ls_max) - 1.0
    ks = int(1.0 + np.random.random() * ks_max)
    seed = _random_assigned(sol, total)
    ruined = np.zeros(nr, np.bool_)
    nb = inst.neighbors.shape[1]
    k = 0
    strings = 0
    for j in range(-1, nb):
        if strings >= ks or k >= q:
            break
        c = seed if j < 0 else inst.neighbors[seed, j]
        r = sol.route_of[c]
        if r < 0 or (ruined[r] and used > 1):
            continue
        ln = sol.lengths[r]
        lt_max = min(float(ln), ls_max)
        lt = min(int(1.0 + np.random.random() * lt_max), ln, q - k)
        pc = sol.pos[c]
        if lt < ln and np.random.random() < SISR_SPLIT_PROB:
            m = 1
            while m < ln - lt and np.random.random() >= SISR_SPLIT_DEPTH:
                m += 1
            span = lt + m
            lo = max(0, pc - span + 1)
            hi = min(ln - span, pc)
            start = np.random.randint(lo, hi + 1)
            keep = start + np.random.randint(0, lt + 1)
            # remove the tail part first so positions of the head part stay valid
            k2 = _remove_span(inst, sol, r, keep + m, start + span, removed, k)
            k = _remove_span(inst, sol, r, start, keep, removed, k2)
        else:
            lo = max(0, pc - lt + 1)
            hi = min(ln - lt, pc)
            start = np.random.randint(lo, hi + 1)
            k = _remove_span(inst, sol, r, start, start + lt, removed, k)
        ruined[r] = True
        strings += 1
    return k


@register("destroy", "route_removal")
def route_removal(inst, sol, n_remove, removed):
    """Remove whole routes, random ones or (with ``ROUTE_SMALLEST_PROB``) the smallest first.

    Emptying a route is the only way insertion-based repair can reduce the fleet; smallest
    routes are the likeliest to be absorbed by the others. Routes longer than the remaining
    budget are skipped; if none fits, a random string of ``n_remove`` customers of the first
    candidate route is removed instead.
    """
    total = _assigned_count(sol)
    q = min(n_remove, total)
    if q <= 0:
        return 0
    nr = sol.nroutes[0]
    ids = np.empty(nr, np.int64)
    cnt = 0
    for r in range(nr):
        if sol.lengths[r] > 0:
            ids[cnt] = r
            cnt += 1
    ids = ids[:cnt]
    if np.random.random() < ROUTE_SMALLEST_PROB:
        key = np.empty(cnt)
        for i in range(cnt):
            key[i] = sol.lengths[ids[i]] + 0.5 * np.random.random()
        ids = ids[np.argsort(key)]
    else:
        np.random.shuffle(ids)
    k = 0
    for i in range(cnt):
        r = ids[i]
        ln = sol.lengths[r]
        if ln <= q - k:
            k = _remove_span(inst, sol, r, 0, ln, removed, k)
            if k >= q:
                break
    if k == 0:
        r = ids[0]
        start = np.random.randint(0, sol.lengths[r] - q + 1)
        k = _remove_span(inst, sol, r, start, start + q, removed, 0)
    return k


@njit(cache=True)
def _split_two(inst, members, ln, label):
    """Label ``members[0:ln]`` 0/1 as two spatial clusters.

    Short routes: Kruskal stopped at two components, i.e. the minimum spanning tree without its
    longest edge (computed with Prim, O(ln^2)), as in Pisinger & Ropke's cluster removal.
    Long routes: two far-apart seeds and nearest-seed assignment, O(ln).
    """
    if ln == 1:
        label[0] = 0
        return
    d = inst.dist
    if ln <= CLUSTER_MST_MAX:
        best = np.full(ln, np.inf)
        parent = np.zeros(ln, np.int64)
        seq = np.empty(ln, np.int64)
        intree = np.zeros(ln, np.bool_)
        cur = 0
        intree[0] = True
        seq[0] = 0
        cut = -1
        cut_w = -1.0
        for step in range(1, ln):
            x = members[cur]
            nxt = -1
            nw = np.inf
            for v in range(ln):
                if intree[v]:
                    continue
                w = d[x, members[v]]
                if w < best[v]:
                    best[v] = w
                    parent[v] = cur
                if best[v] < nw:
                    nw = best[v]
                    nxt = v
            intree[nxt] = True
            seq[step] = nxt
            if nw > cut_w:
                cut_w = nw
                cut = nxt
            cur = nxt
        label[0] = 0
        for step in range(1, ln):
            v = seq[step]
            label[v] = 1 if v == cut else label[parent[v]]
        return
    a = members[np.random.randint(0, ln)]
    b = a
    far = -1.0
    for i in range(ln):
        if d[a, members[i]] > far:
            far = d[a, members[i]]
            b = members[i]
    a = b
    far = -1.0
    for i in range(ln):
        if d[b, members[i]] > far:
            far = d[b, members[i]]
            a = members[i]
    for i in range(ln):
        x = members[i]
        label[i] = 0 if d[a, x] <= d[b, x] else 1


@njit(cache=True)
def _next_cluster_route(sol, inst, removed, start, stop, done):
    """Route of the customer nearest to a just-removed one, among routes not yet clustered.

    Falls back to a random unprocessed route; -1 when every route has been processed.
    """
    nb = inst.neighbors.shape[1]
    cnt = stop - start
    off = np.random.randint(0, cnt)
    for t in range(cnt):
        c = removed[start + (off + t) % cnt]
        for j in range(nb):
            x = inst.neighbors[c, j]
            r = sol.route_of[x]
            if r >= 0 and not done[r]:
                return r
    left = _assigned_count(sol)
    if left > 0:
        for _ in range(8):
            r = sol.route_of[_random_assigned(sol, left)]
            if not done[r]:
                return r
    for r in range(sol.nroutes[0]):
        if sol.lengths[r] > 0 and not done[r]:
            return r
    return -1


@register("destroy", "cluster_removal")
def cluster_removal(inst, sol, n_remove, removed):
    """Cluster removal (Pisinger & Ropke 2007): split a route in two clusters, remove one.

    Then continue from the route holding the customer nearest to a removed one, so the
    removed customers form a few geographic groups that straddle route boundaries. A cluster
    larger than the remaining budget is cut to the customers nearest a random member of it.
    """
    total = _assigned_count(sol)
    q = min(n_remove, total)
    if q <= 0:
        return 0
    n = inst.n
    done = np.zeros(sol.nroutes[0], np.bool_)
    members = np.empty(n + 1, np.int64)
    label = np.empty(n + 1, np.int64)
    key = np.empty(n + 1)
    r = sol.route_of[_random_assigned(sol, total)]
    k = 0
    while k < q and r >= 0:
        done[r] = True
        ln = sol.lengths[r]
        for i in range(ln):
            members[i] = sol.routes[r, i]
        _split_two(inst, members, ln, label)
        side = np.random.randint(0, 2)
        cnt = 0
        for i in range(ln):
            if label[i] == side:
                members[cnt] = members[i]
                cnt += 1
        if cnt == 0:  # the MST split always gives two sides, the two-seed split may not
            cnt = ln
            for i in range(ln):
                members[i] = sol.routes[r, i]
        take = min(cnt, q - k)
        if take < cnt:
            x = members[np.random.randint(0, cnt)]
            for i in range(cnt):
                key[i] = inst.dist[x, members[i]]
            _select(key, members, cnt, take - 1)
        start = k
        for i in range(take):
            remove_customer(inst, sol, members[i])
            removed[k] = members[i]
            k += 1
        if k >= q:
            break
        r = _next_cluster_route(sol, inst, removed, start, k, done)
    return k
