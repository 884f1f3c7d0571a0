"""dj-stripe 2.11.0's tables, part of 0001_squashed_0003_2_11 (see its docstring):
Tax codes and rates, shipping rates, transfers, upcoming invoices, identity
verification, webhook endpoints and triggers, coupons.

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
        name='TaxCode',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'verbose_name': 'Tax Code',
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='ShippingRate',
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
            ('tax_code', djstripe.fields.StripeForeignKey(blank=True, help_text='The shipping tax code', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.taxcode', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'verbose_name': 'Shipping Rate',
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='TaxId',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('customer', djstripe.fields.StripeForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='tax_ids', to='djstripe.customer', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'verbose_name': 'Tax ID',
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='TaxRate',
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
            'verbose_name': 'Tax Rate',
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.AddField(
        model_name='subscriptionitem',
        name='tax_rates',
        field=models.ManyToManyField(blank=True, db_table='djstripe_djstripesubscriptionitemtaxrate', help_text='The tax rates which apply to this subscription_item. When set, the default_tax_rates on the subscription do not apply to this subscription_item.', related_name='+', to='djstripe.taxrate'),
    ),
    migrations.AddField(
        model_name='invoiceitem',
        name='tax_rates',
        field=models.ManyToManyField(blank=True, db_table='djstripe_djstripeinvoiceitemtaxrate', help_text='The tax rates which apply to this invoice item. When set, the default_tax_rates on the invoice do not apply to this invoice item.', related_name='+', to='djstripe.taxrate'),
    ),
    migrations.AddField(
        model_name='invoice',
        name='default_tax_rates',
        field=models.ManyToManyField(blank=True, db_table='djstripe_djstripeinvoicedefaulttaxrate', help_text='The tax rates applied to this invoice, if any.', related_name='+', to='djstripe.taxrate'),
    ),
    migrations.CreateModel(
        name='Transfer',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('balance_transaction', djstripe.fields.StripeForeignKey(blank=True, help_text='Balance transaction that describes the impact on your account balance.', null=True, on_delete=django.db.models.deletion.SET_NULL, to='djstripe.balancetransaction', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='TransferReversal',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('balance_transaction', djstripe.fields.StripeForeignKey(blank=True, help_text='Balance transaction that describes the impact on your account balance.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='transfer_reversals', to='djstripe.balancetransaction', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('transfer', djstripe.fields.StripeForeignKey(help_text='The transfer that was reversed.', on_delete=django.db.models.deletion.CASCADE, related_name='reversals', to='djstripe.transfer', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='UpcomingInvoice',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('charge', models.OneToOneField(help_text='The latest charge generated for this invoice, if any.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='latest_%(class)s', to='djstripe.charge')),
            ('customer', djstripe.fields.StripeForeignKey(help_text='The customer associated with this invoice.', on_delete=django.db.models.deletion.CASCADE, related_name='%(class)ss', to='djstripe.customer', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('default_payment_method', djstripe.fields.StripeForeignKey(blank=True, help_text="Default payment method for the invoice. It must belong to the customer associated with the invoice. If not set, defaults to the subscription's default payment method, if any, or to the default payment method in the customer's invoice settings.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='djstripe.paymentmethod', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('payment_intent', models.OneToOneField(help_text='The PaymentIntent associated with this invoice. The PaymentIntent is generated when the invoice is finalized, and can then be used to pay the invoice.Note that voiding an invoice will cancel the PaymentIntent', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.paymentintent')),
            ('subscription', djstripe.fields.StripeForeignKey(help_text='The subscription that this invoice was prepared for, if any.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='%(class)ss', to='djstripe.subscription', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'ordering': ['-created'],
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='VerificationReport',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('document', djstripe.fields.JSONField(blank=True, null=True)),
            ('id_number', djstripe.fields.JSONField(blank=True, null=True)),
            ('options', djstripe.fields.JSONField(blank=True, null=True)),
            ('selfie', djstripe.fields.JSONField(blank=True, null=True)),
            ('type', djstripe.fields.StripeEnumField(enum=djstripe.enums.VerificationType, max_length=255)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='VerificationSession',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('last_error', djstripe.fields.JSONField(blank=True, null=True)),
            ('redaction', djstripe.fields.JSONField(blank=True, null=True)),
            ('verified_outputs', djstripe.fields.JSONField(blank=True, null=True)),
            ('status', djstripe.fields.StripeEnumField(enum=djstripe.enums.VerificationSessionStatus, max_length=255)),
            ('type', djstripe.fields.StripeEnumField(enum=djstripe.enums.VerificationType, max_length=255)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('last_verification_report', djstripe.fields.StripeForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='djstripe.verificationreport', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='WebhookEndpoint',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('api_version', models.CharField(blank=True, help_text='The API version events are rendered as for this webhook endpoint. Defaults to the configured Stripe API Version.', max_length=64)),
            ('enabled_events', djstripe.fields.JSONField()),
            ('secret', models.CharField(blank=True, editable=False, help_text="The endpoint's secret, used to generate webhook signatures.", max_length=256)),
            ('status', djstripe.fields.StripeEnumField(enum=djstripe.enums.WebhookEndpointStatus, max_length=255)),
            ('url', models.URLField(help_text='The URL of the webhook endpoint.', max_length=2048)),
            ('application', models.CharField(blank=True, help_text='The ID of the associated Connect application.', max_length=255)),
            ('djstripe_uuid', models.UUIDField(default=uuid.uuid4, help_text='A UUID specific to dj-stripe generated for the endpoint', unique=True)),
            ('djstripe_tolerance', models.PositiveSmallIntegerField(default=300, help_text="Controls the milliseconds tolerance which wards against replay attacks. Leave this to its default value unless you know what you're doing.")),
            ('djstripe_validation_method', djstripe.fields.StripeEnumField(default='verify_signature', enum=djstripe.enums.WebhookEndpointValidation, max_length=255)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.CreateModel(
        name='WebhookEventTrigger',
        fields=[
            ('id', models.BigAutoField(primary_key=True, serialize=False)),
            ('remote_ip', models.GenericIPAddressField(help_text='IP address of the request client.')),
            ('headers', djstripe.fields.JSONField()),
            ('body', models.TextField(blank=True)),
            ('valid', models.BooleanField(default=False, help_text='Whether or not the webhook event has passed validation')),
            ('processed', models.BooleanField(default=False, help_text='Whether or not the webhook event has been successfully processed')),
            ('exception', models.CharField(blank=True, max_length=128)),
            ('traceback', models.TextField(blank=True, help_text='Traceback if an exception was thrown during processing')),
            ('djstripe_version', models.CharField(default=djstripe.models.webhooks._get_version, help_text='The version of dj-stripe when the webhook was received', max_length=32)),
            ('created', models.DateTimeField(auto_now_add=True)),
            ('updated', models.DateTimeField(auto_now=True)),
            ('event', djstripe.fields.StripeForeignKey(blank=True, help_text='Event object contained in the (valid) Webhook', null=True, on_delete=django.db.models.deletion.SET_NULL, to='djstripe.event', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('stripe_trigger_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('webhook_endpoint', djstripe.fields.StripeForeignKey(blank=True, help_text='The endpoint this webhook was received on', null=True, on_delete=django.db.models.deletion.SET_NULL, to='djstripe.webhookendpoint', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
    ),
    migrations.CreateModel(
        name='Coupon',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('id', djstripe.fields.StripeIdField(max_length=500)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
            'unique_together': {('id', 'livemode')},
        },
    ),
]
