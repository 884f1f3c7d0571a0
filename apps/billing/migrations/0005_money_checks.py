"""Money the database refuses, the prompt's cost kept on each reservation, and the staff
money powers as permissions.

- CHECK constraints: usage entries are charges (<= 0), grants and purchases are not
  negative, a reservation's amounts and a budget's spend and limit are not negative.
- `billing_reserve` stores the prompt's cost (`prompt_cost`); `billing_expire` charges it:
  a request that reached an upstream is never free, even if its process died.
- `billing_settle` raises on a negative cost, and treats a usage entry another source wrote
  for the request id as a conflict: the request is charged in full under `usage_conflict`
  and the status says so, never "already charged, charge 0". A late settle of a reservation
  the sweeper expired charges nothing more (the expiry's charge is final).
- `billing_charge` raises on a negative amount.
"""

import importlib
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models

_0002 = importlib.import_module("apps.billing.migrations.0002_budget_functions")
_0003 = importlib.import_module("apps.billing.migrations.0003_ledger_usage_once_per_tenant")

_INSERT_OLD = """    INSERT INTO public.billing_reservation
        (request_id, tenant_id, member_id, api_key_id, endpoint, model, amount,
         max_output_tokens, state, created_at, expires_at)
    VALUES (p_request_id, p_tenant_id, p_member_id, p_key_id, p_endpoint, p_model, cost,
            out_tokens, 'held', now(), now() + make_interval(secs => p_timeout_seconds))"""
_INSERT_NEW = """    INSERT INTO public.billing_reservation
        (request_id, tenant_id, member_id, api_key_id, endpoint, model, amount, prompt_cost,
         max_output_tokens, state, created_at, expires_at)
    VALUES (p_request_id, p_tenant_id, p_member_id, p_key_id, p_endpoint, p_model, cost,
            LEAST(ceil(p_prompt_cost * 1e8) / 1e8, cost),
            out_tokens, 'held', now(), now() + make_interval(secs => p_timeout_seconds))"""
assert _0002.RESERVE.count(_INSERT_OLD) == 1
RESERVE = _0002.RESERVE.replace(_INSERT_OLD, _INSERT_NEW)

# Writes one usage entry for reservation `r` (charging `v_charge`), or, when another source
# already wrote the request id's usage entry, a `usage_conflict` entry for the same amount.
# Sets v_conflict. Shared by settle and expire.
_CHARGE_RESERVATION = """
    INSERT INTO public.billing_ledgerentry
        (tenant_id, kind, member_id, api_key_id, amount, request_id, period, created_at,
         created_by_id, note)
    VALUES (r.tenant_id, 'usage', r.member_id, r.api_key_id, -v_charge, r.request_id,
            t.period_start, now(), NULL, v_note)
    ON CONFLICT (tenant_id, request_id) WHERE kind = 'usage' DO NOTHING
    RETURNING id INTO v_entry;
    v_conflict := v_entry IS NULL;
    IF v_conflict THEN
        INSERT INTO public.billing_ledgerentry
            (tenant_id, kind, member_id, api_key_id, amount, request_id, period, created_at,
             created_by_id, note)
        VALUES (r.tenant_id, 'usage_conflict', r.member_id, r.api_key_id, -v_charge,
                r.request_id, t.period_start, now(), NULL,
                'The request id was already charged by another source.');
        RAISE WARNING 'billing_usage_conflict tenant=% request_id=% charge=%',
            r.tenant_id, r.request_id, v_charge;
    END IF;
    PERFORM public.billing_apply(r.tenant_id, r.member_id, r.api_key_id, r.amount, v_charge);
"""

SETTLE = r"""
CREATE OR REPLACE FUNCTION public.billing_settle(p_id bigint, p_actual numeric)
RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant bigint;
    t public.billing_budget%ROWTYPE;
    r public.billing_reservation%ROWTYPE;
    v_charge numeric := p_actual;
    v_note text := '';
    v_entry bigint;
    v_conflict boolean;
BEGIN
    IF p_actual IS NULL OR p_actual < 0 THEN
        RAISE EXCEPTION 'actual cost % of reservation % must not be negative', p_actual, p_id
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT x.tenant_id INTO v_tenant FROM public.billing_reservation x WHERE x.id = p_id;
    IF NOT FOUND THEN
        -- An error, not a status: the caller's usage record must not commit without it.
        RAISE EXCEPTION 'reservation % not found', p_id USING ERRCODE = 'no_data_found';
    END IF;
    SELECT * INTO t FROM public.billing_budget b
     WHERE b.tenant_id = v_tenant AND b.scope = 'tenant' FOR UPDATE;
    SELECT * INTO r FROM public.billing_reservation x WHERE x.id = p_id FOR UPDATE;
    IF r.state = 'settled' THEN RETURN 'already'; END IF;
    -- The sweeper released it and charged the prompt's cost: that charge is final, since
    -- the budget it held may have been spent by other requests since (no overspend).
    IF r.state = 'expired' THEN RETURN 'expired'; END IF;
""" + _CHARGE_RESERVATION + r"""
    UPDATE public.billing_reservation x
       SET state = 'settled', actual_cost = p_actual, settled_at = now()
     WHERE x.id = p_id;
    RETURN CASE WHEN v_conflict THEN 'conflict' ELSE 'settled' END;
END
$fn$;
"""

EXPIRE = r"""
CREATE OR REPLACE FUNCTION public.billing_expire(p_id bigint)
RETURNS SETOF public.billing_reservation LANGUAGE plpgsql AS $fn$
DECLARE
    v_tenant bigint;
    t public.billing_budget%ROWTYPE;
    r public.billing_reservation%ROWTYPE;
    v_charge numeric;
    v_note text := 'Reservation expired: charged the prompt''s cost.';
    v_entry bigint;
    v_conflict boolean;
BEGIN
    SELECT x.tenant_id INTO v_tenant FROM public.billing_reservation x WHERE x.id = p_id;
    IF NOT FOUND THEN RETURN; END IF;
    SELECT * INTO t FROM public.billing_budget b
     WHERE b.tenant_id = v_tenant AND b.scope = 'tenant' FOR UPDATE;
    SELECT * INTO r FROM public.billing_reservation x WHERE x.id = p_id FOR UPDATE;
    -- Re-checked under the lock: a settle that won the race leaves nothing to release.
    IF r.state <> 'held' OR r.expires_at > now() THEN RETURN; END IF;
    -- Its request died or could not record: the provider billed the prompt all the same.
    v_charge := LEAST(r.prompt_cost, r.amount);
""" + _CHARGE_RESERVATION + r"""
    UPDATE public.billing_reservation x
       SET state = 'expired', actual_cost = v_charge, settled_at = now()
     WHERE x.id = p_id;
    RETURN QUERY SELECT * FROM public.billing_reservation x WHERE x.id = p_id;
END
$fn$;
"""

_CHARGE_OLD = """BEGIN
    SELECT * INTO t FROM public.billing_budget b
     WHERE b.tenant_id = p_tenant_id AND b.scope = 'tenant' FOR UPDATE;"""
_CHARGE_NEW = """BEGIN
    IF p_amount IS NULL OR p_amount < 0 THEN
        RAISE EXCEPTION 'charge % for % must not be negative', p_amount, p_request_id
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT * INTO t FROM public.billing_budget b
     WHERE b.tenant_id = p_tenant_id AND b.scope = 'tenant' FOR UPDATE;"""
_CHARGE_0003 = _0002.CHARGE.replace(
    "ON CONFLICT (request_id) WHERE kind = 'usage'",
    "ON CONFLICT (tenant_id, request_id) WHERE kind = 'usage'",
)
assert _CHARGE_0003.count(_CHARGE_OLD) == 1
CHARGE = _CHARGE_0003.replace(_CHARGE_OLD, _CHARGE_NEW)

FORWARD = RESERVE + SETTLE + EXPIRE + CHARGE
# billing_expire's row type gains a column: drop and recreate it either way.
DROP_EXPIRE = "DROP FUNCTION IF EXISTS public.billing_expire(bigint);"
BACKWARD = _0002.RESERVE + _0003.FORWARD + _0002.EXPIRE


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0004_reserve_for_key'),
        ('keys', '0001_initial'),
        ('tenants', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='budget',
            options={'ordering': ('tenant', 'scope', 'id'), 'permissions': [('reset_budget', 'Can close a budget period and start a new one')]},
        ),
        migrations.AlterModelOptions(
            name='ledgerentry',
            options={'ordering': ('-created_at', '-id'), 'permissions': [('grant_credit', 'Can grant prepaid credit to a tenant')], 'verbose_name_plural': 'ledger entries'},
        ),
        migrations.AddField(
            model_name='reservation',
            name='prompt_cost',
            field=models.DecimalField(decimal_places=8, default=Decimal('0'), max_digits=20),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='kind',
            field=models.CharField(choices=[('period_grant', 'Period budget granted'), ('credit_purchase', 'Credit purchased'), ('credit_grant', 'Credit granted by staff'), ('usage', 'Usage charged'), ('usage_conflict', 'Usage charged against a conflicting entry'), ('adjustment', 'Manual adjustment'), ('refund', 'Refund')], max_length=16),
        ),
        migrations.AddConstraint(
            model_name='budget',
            constraint=models.CheckConstraint(condition=models.Q(('spent__gte', 0)), name='budget_spent_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='budget',
            constraint=models.CheckConstraint(condition=models.Q(('limit__isnull', True), ('limit__gte', 0), _connector='OR'), name='budget_limit_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind__in', ('usage', 'usage_conflict')), _negated=True), ('amount__lte', 0), _connector='OR'), name='ledger_usage_is_a_charge'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind__in', ('period_grant', 'credit_purchase', 'credit_grant')), _negated=True), ('amount__gte', 0), _connector='OR'), name='ledger_grants_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='reservation',
            constraint=models.CheckConstraint(condition=models.Q(('prompt_cost__gte', 0), ('amount__gte', models.F('prompt_cost'))), name='reservation_amounts_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='reservation',
            constraint=models.CheckConstraint(condition=models.Q(('actual_cost__isnull', True), ('actual_cost__gte', 0), _connector='OR'), name='reservation_actual_not_negative'),
        ),
        migrations.RunSQL(DROP_EXPIRE + FORWARD, DROP_EXPIRE + BACKWARD),
    ]
