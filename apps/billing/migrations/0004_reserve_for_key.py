"""`billing_reserve_for_key`: re-read an API key's status and, only if it may still spend,
reserve; one statement for the gateway. A key revoked or expired, or a tenant suspended,
since the gateway cached its snapshot then reserves nothing, so the refused request holds,
charges and records nothing."""

from django.db import migrations

RESERVE_FOR_KEY = r"""
CREATE OR REPLACE FUNCTION public.billing_reserve_for_key(
    p_key_id bigint,
    p_request_id text, p_tenant_id bigint, p_member_id bigint, p_api_key_id bigint,
    p_prompt_cost numeric, p_output_token_cost numeric, p_requested_max integer,
    p_model_cap integer, p_min_output integer, p_timeout_seconds integer,
    p_endpoint text, p_model text
) RETURNS TABLE (k_revoked boolean, k_expires_at timestamptz, k_status text,
                 o_status text, o_id bigint, o_amount numeric, o_max_output integer,
                 o_remaining numeric, o_scope text)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_revoked boolean;
    v_expires timestamptz;
    v_status text;
BEGIN
    SELECT k.revoked_at IS NOT NULL, k.expires_at, t.status
      INTO v_revoked, v_expires, v_status
      FROM public.keys_apikey k JOIN public.tenants_tenant t ON t.id = k.tenant_id
     WHERE k.id = p_key_id;
    IF NOT FOUND THEN
        RETURN;  -- no row: the key is gone
    END IF;
    IF v_revoked OR (v_expires IS NOT NULL AND v_expires <= now()) OR v_status <> 'active' THEN
        RETURN QUERY SELECT v_revoked, v_expires, v_status, NULL::text, NULL::bigint,
                            NULL::numeric, NULL::integer, NULL::numeric, NULL::text;
        RETURN;
    END IF;
    RETURN QUERY SELECT v_revoked, v_expires, v_status, r.o_status, r.o_id, r.o_amount,
                        r.o_max_output, r.o_remaining, r.o_scope
      FROM public.billing_reserve(p_request_id, p_tenant_id, p_member_id, p_api_key_id,
                                  p_prompt_cost, p_output_token_cost, p_requested_max,
                                  p_model_cap, p_min_output, p_timeout_seconds,
                                  p_endpoint, p_model) r;
END
$fn$;
"""

DROP = """
DROP FUNCTION IF EXISTS public.billing_reserve_for_key(bigint, text, bigint, bigint, bigint,
    numeric, numeric, integer, integer, integer, integer, text, text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_ledger_usage_once_per_tenant"),
        ("keys", "0001_initial"),
        ("tenants", "0001_initial"),
    ]

    operations = [migrations.RunSQL(RESERVE_FOR_KEY, DROP)]
