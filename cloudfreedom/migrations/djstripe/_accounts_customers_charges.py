"""dj-stripe 2.11.0's tables, part of 0001_squashed_0003_2_11 (see its docstring):
Accounts, API keys, balance, bank accounts and cards, charges, customers, events, files
and the first invoice fields.

Generated; the parts run in this order because an operation may refer only to models an
earlier one created (the autodetector's order, kept)."""

import django.core.validators
import django.db.models.deletion
import djstripe.enums
import djstripe.fields
import djstripe.models.api
import djstripe.models.payment_methods
import djstripe.models.webhooks
import uuid
from django.conf import settings
from django.db import migrations, models

OPERATIONS = [
    migrations.CreateModel(
        name='CountrySpec',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('id', models.CharField(max_length=2, primary_key=True, serialize=False)),
            ('default_currency', djstripe.fields.StripeCurrencyCodeField(max_length=3)),
            ('supported_bank_account_currencies', djstripe.fields.JSONField()),
            ('supported_payment_currencies', djstripe.fields.JSONField()),
            ('supported_payment_methods', djstripe.fields.JSONField()),
            ('supported_transfer_countries', djstripe.fields.JSONField()),
            ('verification_fields', djstripe.fields.JSONField()),
        ],
        options={
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='DjstripePaymentMethod',
        fields=[
            ('id', models.CharField(max_length=255, primary_key=True, serialize=False)),
            ('type', models.CharField(db_index=True, max_length=50)),
        ],
    ),
    migrations.CreateModel(
        name='Account',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='AccountV2',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='ActiveEntitlement',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='APIKey',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('id', models.CharField(default=djstripe.models.api.generate_api_key_id, editable=False, max_length=255)),
            ('type', djstripe.fields.StripeEnumField(enum=djstripe.enums.APIKeyType, max_length=255)),
            ('name', models.CharField(blank=True, help_text='An optional name to identify the key.', max_length=100, verbose_name='Key name')),
            ('secret', models.CharField(help_text='The value of the key.', max_length=128, unique=True, validators=[django.core.validators.RegexValidator(regex='^(pk|sk|rk)_(test|live)_[a-zA-Z0-9]{24,}$')])),
            ('livemode', models.BooleanField(help_text='Whether the key is valid for live or test mode.')),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='ApplicationFee',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('account', djstripe.fields.StripeForeignKey(help_text='ID of the Stripe account this fee was taken from.', on_delete=django.db.models.deletion.PROTECT, related_name='application_fees', to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='BalanceTransaction',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('amount', djstripe.fields.StripeQuantumCurrencyAmountField()),
            ('currency', djstripe.fields.StripeCurrencyCodeField(max_length=3)),
            ('source', djstripe.fields.StripeIdField(max_length=255)),
            ('type', djstripe.fields.StripeEnumField(enum=djstripe.enums.BalanceTransactionType, max_length=255)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='ApplicationFeeRefund',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('fee', djstripe.fields.StripeForeignKey(help_text='The application fee that was refunded', on_delete=django.db.models.deletion.CASCADE, related_name='refunds', to='djstripe.applicationfee', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('balance_transaction', djstripe.fields.StripeForeignKey(help_text='Balance transaction that describes the impact on your account balance.', on_delete=django.db.models.deletion.CASCADE, to='djstripe.balancetransaction', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.AddField(
        model_name='applicationfee',
        name='balance_transaction',
        field=djstripe.fields.StripeForeignKey(help_text='Balance transaction that describes the impact on your account balance.', on_delete=django.db.models.deletion.CASCADE, to='djstripe.balancetransaction', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD),
    ),
    migrations.CreateModel(
        name='BankAccount',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('fingerprint', models.CharField(help_text='Uniquely identifies this particular bank account. You can use this attribute to check whether two bank accounts are the same.', max_length=16)),
            ('account', djstripe.fields.StripeForeignKey(blank=True, help_text='The external account the charge was made on behalf of. Null here indicates that this value was never set.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='bank_accounts', to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
        bases=(djstripe.models.payment_methods.ExternalAccountMixin, models.Model),
    ),
    migrations.CreateModel(
        name='Card',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('fingerprint', models.CharField(blank=True, default='', help_text='Uniquely identifies this particular card number.', max_length=16)),
            ('account', djstripe.fields.StripeForeignKey(blank=True, help_text='The external account the charge was made on behalf of. Null here indicates that this value was never set.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cards', to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
        bases=(djstripe.models.payment_methods.ExternalAccountMixin, models.Model),
    ),
    migrations.CreateModel(
        name='Charge',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('amount', djstripe.fields.StripeDecimalCurrencyAmountField(decimal_places=2, max_digits=14)),
            ('currency', djstripe.fields.StripeCurrencyCodeField(max_length=3)),
            ('status', djstripe.fields.StripeEnumField(enum=djstripe.enums.ChargeStatus, max_length=255)),
            ('balance_transaction', djstripe.fields.StripeForeignKey(help_text='The balance transaction that describes the impact of this charge on your account balance (not including refunds or disputes).', null=True, on_delete=django.db.models.deletion.SET_NULL, to='djstripe.balancetransaction', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.AddField(
        model_name='applicationfee',
        name='charge',
        field=djstripe.fields.StripeForeignKey(help_text='The charge that the application fee was taken from.', on_delete=django.db.models.deletion.CASCADE, to='djstripe.charge', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD),
    ),
    migrations.CreateModel(
        name='Customer',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('email', models.TextField(blank=True, default='', max_length=5000)),
            ('date_purged', models.DateTimeField(editable=False, null=True)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('subscriber', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='djstripe_customers', to=settings.AUTH_USER_MODEL)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.AddField(
        model_name='charge',
        name='customer',
        field=djstripe.fields.StripeForeignKey(blank=True, help_text='The customer associated with this charge.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='charges', to='djstripe.customer', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD),
    ),
    migrations.AddField(
        model_name='charge',
        name='source',
        field=djstripe.fields.PaymentMethodForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='charges', to='djstripe.djstripepaymentmethod'),
    ),
    migrations.CreateModel(
        name='EarlyFraudWarning',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='Event',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('api_version', models.CharField(blank=True, help_text='the API version at which the event data was rendered. Blank for old entries only, all new entries will have this value', max_length=64)),
            ('data', djstripe.fields.JSONField()),
            ('request_id', models.CharField(blank=True, default='', help_text="Information about the request that triggered this event, for traceability purposes. If empty string then this is an old entry without that data. If Null then this is not an old entry, but a Stripe 'automated' event with no associated request.", max_length=50)),
            ('idempotency_key', models.TextField(blank=True, default='')),
            ('type', models.CharField(help_text="Stripe's event description code", max_length=250)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='Feature',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='File',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='FileLink',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('file', djstripe.fields.StripeForeignKey(on_delete=django.db.models.deletion.CASCADE, to='djstripe.file', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='IdempotencyKey',
        fields=[
            ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
            ('action', models.CharField(max_length=100)),
            ('livemode', models.BooleanField(help_text='Whether the key was used in live or test mode.')),
            ('created', models.DateTimeField(auto_now_add=True)),
        ],
        options={
            'unique_together': {('action', 'livemode')},
        },
    ),
    migrations.CreateModel(
        name='Invoice',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('charge', models.OneToOneField(help_text='The latest charge generated for this invoice, if any.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='latest_%(class)s', to='djstripe.charge')),
            ('customer', djstripe.fields.StripeForeignKey(help_text='The customer associated with this invoice.', on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='djstripe.customer', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'ordering': ['-created'],
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.AddField(
        model_name='charge',
        name='invoice',
        field=djstripe.fields.StripeForeignKey(help_text='The invoice this charge is for if one exists.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='charges', to='djstripe.invoice', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD),
    ),
]
