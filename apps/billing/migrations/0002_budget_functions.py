"""The budget hot path as PL/pgSQL: one round trip per reserve and per settle.

Lock order, everywhere: the tenant's budget row first, then the member row, then the key
row, then the reservation. Every writer of these rows takes the tenant row first, so two
requests of one tenant queue on it instead of deadlocking.
"""

from django.db import migrations

RESERVE = r"""
CREATE OR REPLACE FUNCTION public.billing_reserve(
    p_request_id text, p_tenant_id bigint, p_member_id bigint, p_key_id bigint,
    p_prompt_cost numeric, p_output_token_cost numeric, p_requested_max integer,
    p_model_cap integer, p_min_output integer, p_timeout_seconds integer,
    p_endpoint text, p_model text
) RETURNS TABLE (o_status text, o_id bigint, o_amount numeric, o_max_output integer,
                 o_remaining numeric, o_scope text)
LANGUAGE plpgsql AS $fn$
DECLARE
    t public.billing_budget%ROWTYPE;
    m public.billing_budget%ROWTYPE;
    k public.billing_budget%ROWTYPE;
    has_m boolean := false;
    has_k boolean := false;
    avail numeric;
    tight text := 'tenant';
    a numeric;
    out_tokens integer;
    cost numeric;
    fit numeric;
    prior public.billing_reservation%ROWTYPE;
    new_id bigint;
BEGIN
    SELECT * INTO t FROM public.billing_budget b
     WHERE b.tenant_id = p_tenant_id AND b.scope = 'tenant' FOR UPDATE;
    IF NOT FOUND THEN
        -- No budget row: nothing may be spent (never a silent unlimited).
        RETURN QUERY SELECT 'exceeded'::text, NULL::bigint, 0::numeric, 0, 0::numeric,
                            'tenant'::text;
        RETURN;
    END IF;
    SELECT * INTO prior FROM public.billing_reservation r WHERE r.request_id = p_request_id;
    IF FOUND THEN
        RETURN QUERY SELECT 'duplicate'::text, prior.id, prior.amount, prior.max_output_tokens,
                            NULL::numeric, NULL::text;
        RETURN;
    END IF;
    avail := COALESCE(t."limit", 0) + t.credit - t.spent - t.reserved;
    IF p_member_id IS NOT NULL THEN
        SELECT * INTO m FROM public.billing_budget b
         WHERE b.member_id = p_member_id AND b.scope = 'member' FOR UPDATE;
        has_m := FOUND;
        IF has_m AND m."limit" IS NOT NULL THEN
            a := m."limit" - m.spent - m.reserved;
            IF a <= avail THEN avail := a; tight := 'member'; END IF;
        END IF;
    END IF;
    IF p_key_id IS NOT NULL THEN
        SELECT * INTO k FROM public.billing_budget b
         WHERE b.api_key_id = p_key_id AND b.scope = 'key' FOR UPDATE;
        has_k := FOUND;
        IF has_k AND k."limit" IS NOT NULL THEN
            a := k."limit" - k.spent - k.reserved;
            IF a <= avail THEN avail := a; tight := 'key'; END IF;
        END IF;
    END IF;

    out_tokens := LEAST(COALESCE(p_requested_max, p_model_cap), p_model_cap);
    -- Rounded up to the column's 8 places, so the stored amount is what is released later.
    -- `avail` is on that grid too, so rounding up never pushes a fitting cost over it.
    cost := ceil((p_prompt_cost + out_tokens * p_output_token_cost) * 1e8) / 1e8;
    IF cost > avail THEN
        -- Only an output limit the gateway chose may shrink; an explicit one is refused.
        IF p_requested_max IS NULL AND p_output_token_cost > 0 THEN
            fit := floor((avail - p_prompt_cost) / p_output_token_cost);
        ELSE
            fit := -1;
        END IF;
        IF fit >= LEAST(p_min_output, p_model_cap) THEN
            out_tokens := LEAST(fit, out_tokens)::integer;
            cost := ceil((p_prompt_cost + out_tokens * p_output_token_cost) * 1e8) / 1e8;
        ELSE
            RETURN QUERY SELECT 'exceeded'::text, NULL::bigint, 0::numeric, 0,
                                GREATEST(avail, 0), tight;
            RETURN;
        END IF;
    END IF;

    INSERT INTO public.billing_reservation
        (request_id, tenant_id, member_id, api_key_id, endpoint, model, amount,
         max_output_tokens, state, created_at, expires_at)
    VALUES (p_request_id, p_tenant_id, p_member_id, p_key_id, p_endpoint, p_model, cost,
            out_tokens, 'held', now(), now() + make_interval(secs => p_timeout_seconds))
    RETURNING id INTO new_id;
    UPDATE public.billing_budget b SET reserved = b.reserved + cost, updated_at = now()
     WHERE b.id = t.id;
    IF has_m THEN
        UPDATE public.billing_budget b SET reserved = b.reserved + cost, updated_at = now()
         WHERE b.id = m.id;
    END IF;
    IF has_k THEN
        UPDATE public.billing_budget b SET reserved = b.reserved + cost, updated_at = now()
         WHERE b.id = k.id;
    END IF;
    RETURN QUERY SELECT 'ok'::text, new_id, cost, out_tokens, avail - cost, tight;
END
$fn$;
"""

# Moves `p_release` out of `reserved` and `p_charge` into `spent` at every scope of a
# request, in lock order (tenant row already locked by the caller function).
APPLY = r"""
CREATE OR REPLACE FUNCTION public.billing_apply(
    p_tenant_id bigint, p_member_id bigint, p_key_id bigint,
    p_release numeric, p_charge numeric
) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE public.billing_budget b
       SET reserved = b.reserved - p_release, spent = b.spent + p_charge, updated_at = now()
     WHERE b.tenant_id = p_tenant_id AND b.scope = 'tenant';
    IF p_member_id IS NOT NULL THEN
        UPDATE public.billing_budget b
           SET reserved = b.reserved - p_release, spent = b.spent + p_charge, updated_at = now()
         WHERE b.member_id = p_member_id AND b.scope = 'member';
    END IF;
    IF p_key_id IS NOT NULL THEN
        UPDATE public.billing_budget b
           SET reserved = b.reserved - p_release, spent = b.spent + p_charge, updated_at = now()
         WHERE b.api_key_id = p_key_id AND b.scope = 'key';
    END IF;
END
$fn$;
"""

SETTLE = r"""
CREATE OR REPLACE FUNCTION public.billing_settle(p_id bigint, p_actual numeric)
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant bigint;
    t public.billing_budget%ROWTYPE;
    r public.billing_reservation%ROWTYPE;
    v_release numeric := 0;
    v_entry bigint;
BEGIN
    SELECT x.tenant_id INTO v_tenant FROM public.billing_reservation x WHERE x.id = p_id;
    IF NOT FOUND THEN
        -- An error, not a status: the caller need not read a result, so it can pipeline
        -- settle with its usage record and COMMIT (one round trip for all three).
        RAISE EXCEPTION 'reservation % not found', p_id USING ERRCODE = 'no_data_found';
    END IF;
    SELECT * INTO t FROM public.billing_budget b
     WHERE b.tenant_id = v_tenant AND b.scope = 'tenant' FOR UPDATE;
    SELECT * INTO r FROM public.billing_reservation x WHERE x.id = p_id FOR UPDATE;
    IF r.state = 'settled' THEN RETURN 'already'; END IF;
    IF r.state = 'held' THEN v_release := r.amount; END IF;
    INSERT INTO public.billing_ledgerentry
        (tenant_id, kind, member_id, api_key_id, amount, request_id, period, created_at,
         created_by_id, note)
    VALUES (v_tenant, 'usage', r.member_id, r.api_key_id, -p_actual, r.request_id,
            t.period_start, now(), NULL, '')
    ON CONFLICT (request_id) WHERE kind = 'usage' DO NOTHING
    RETURNING id INTO v_entry;
    -- Already charged through the ingest path: release only, never charge twice.
    PERFORM public.billing_apply(v_tenant, r.member_id, r.api_key_id, v_release,
                                 CASE WHEN v_entry IS NULL THEN 0 ELSE p_actual END);
    UPDATE public.billing_reservation x
       SET state = 'settled', actual_cost = p_actual, settled_at = now()
     WHERE x.id = p_id;
    RETURN 'settled';
END
$fn$;
"""

CHARGE = r"""
CREATE OR REPLACE FUNCTION public.billing_charge(
    p_tenant_id bigint, p_member_id bigint, p_key_id bigint, p_request_id text,
    p_amount numeric
) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    t public.billing_budget%ROWTYPE;
    v_entry bigint;
BEGIN
    SELECT * INTO t FROM public.billing_budget b
     WHERE b.tenant_id = p_tenant_id AND b.scope = 'tenant' FOR UPDATE;
    IF NOT FOUND THEN RETURN 'missing'; END IF;
    INSERT INTO public.billing_ledgerentry
        (tenant_id, kind, member_id, api_key_id, amount, request_id, period, created_at,
         created_by_id, note)
    VALUES (p_tenant_id, 'usage', p_member_id, p_key_id, -p_amount, p_request_id,
            t.period_start, now(), NULL, '')
    ON CONFLICT (request_id) WHERE kind = 'usage' DO NOTHING
    RETURNING id INTO v_entry;
    IF v_entry IS NULL THEN RETURN 'already'; END IF;
    PERFORM public.billing_apply(p_tenant_id, p_member_id, p_key_id, 0, p_amount);
    RETURN 'charged';
END
$fn$;
"""

EXPIRE = r"""
CREATE OR REPLACE FUNCTION public.billing_expire(p_id bigint)
RETURNS SETOF public.billing_reservation LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant bigint;
    r public.billing_reservation%ROWTYPE;
BEGIN
    SELECT x.tenant_id INTO v_tenant FROM public.billing_reservation x WHERE x.id = p_id;
    IF NOT FOUND THEN RETURN; END IF;
    PERFORM 1 FROM public.billing_budget b
      WHERE b.tenant_id = v_tenant AND b.scope = 'tenant' FOR UPDATE;
    SELECT * INTO r FROM public.billing_reservation x WHERE x.id = p_id FOR UPDATE;
    -- Re-checked under the lock: a settle that won the race leaves nothing to release.
    IF r.state <> 'held' OR r.expires_at > now() THEN RETURN; END IF;
    PERFORM public.billing_apply(v_tenant, r.member_id, r.api_key_id, r.amount, 0);
    UPDATE public.billing_reservation x SET state = 'expired' WHERE x.id = p_id;
    r.state := 'expired';
    RETURN NEXT r;
END
$fn$;
"""

DROP = """
DROP FUNCTION IF EXISTS public.billing_expire(bigint);
DROP FUNCTION IF EXISTS public.billing_charge(bigint, bigint, bigint, text, numeric);
DROP FUNCTION IF EXISTS public.billing_settle(bigint, numeric);
DROP FUNCTION IF EXISTS public.billing_apply(bigint, bigint, bigint, numeric, numeric);
DROP FUNCTION IF EXISTS public.billing_reserve(text, bigint, bigint, bigint, numeric, numeric,
    integer, integer, integer, integer, text, text);
"""


def create_missing_tenant_budgets(apps, schema_editor):  # noqa: ANN001, ANN201
    """Tenants made before billing existed get their budget row and period grant."""
    from django.utils import timezone

    from apps.billing.periods import period_containing

    Tenant = apps.get_model("tenants", "Tenant")
    Budget = apps.get_model("billing", "Budget")
    LedgerEntry = apps.get_model("billing", "LedgerEntry")
    now = timezone.now()
    for tenant in Tenant.objects.filter(kind="customer").select_related("product"):
        if Budget.objects.filter(tenant=tenant, scope="tenant").exists():
            continue
        start, end = period_containing(tenant.billing_anchor, now)
        grant = tenant.product.monthly_budget if tenant.product else 0
        Budget.objects.create(
            tenant=tenant, scope="tenant", limit=grant, period_start=start, next_reset_at=end
        )
        LedgerEntry.objects.create(
            tenant=tenant, kind="period_grant", amount=grant, period=start, created_at=now,
            note="Budget created for an existing tenant.",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("tenants", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(RESERVE + APPLY + SETTLE + CHARGE + EXPIRE, DROP),
        migrations.RunPython(create_missing_tenant_budgets, migrations.RunPython.noop),
    ]
