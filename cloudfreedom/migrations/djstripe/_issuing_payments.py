"""dj-stripe 2.11.0's tables, part of 0001_squashed_0003_2_11 (see its docstring):
Issuing, payment intents, disputes, payment methods, mandates and payouts.

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
        name='IssuingAuthorization',
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
            'db_table': 'djstripe_issuing_authorization',
        },
    ),
    migrations.CreateModel(
        name='IssuingCard',
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
            'db_table': 'djstripe_issuing_card',
        },
    ),
    migrations.CreateModel(
        name='IssuingCardholder',
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
            'db_table': 'djstripe_issuing_cardholder',
        },
    ),
    migrations.CreateModel(
        name='IssuingDispute',
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
            'db_table': 'djstripe_issuing_dispute',
        },
    ),
    migrations.CreateModel(
        name='IssuingTransaction',
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
            'db_table': 'djstripe_issuing_transaction',
        },
    ),
    migrations.CreateModel(
        name='PaymentIntent',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('customer', djstripe.fields.StripeForeignKey(help_text='Customer this PaymentIntent is for if one exists.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.customer', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('on_behalf_of', djstripe.fields.StripeForeignKey(blank=True, help_text='The account (if any) for which the funds of the PaymentIntent are intended.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='payment_intents', to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.AddField(
        model_name='invoice',
        name='payment_intent',
        field=models.OneToOneField(help_text='The PaymentIntent associated with this invoice. The PaymentIntent is generated when the invoice is finalized, and can then be used to pay the invoice.Note that voiding an invoice will cancel the PaymentIntent', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.paymentintent'),
    ),
    migrations.CreateModel(
        name='Dispute',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('balance_transaction', djstripe.fields.StripeForeignKey(help_text='Balance transaction that describes the impact on your account balance.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='disputes', to='djstripe.balancetransaction', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('charge', djstripe.fields.StripeForeignKey(help_text='The charge that was disputed', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='disputes', to='djstripe.charge', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('payment_intent', djstripe.fields.StripeForeignKey(help_text='The PaymentIntent that was disputed', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='disputes', to='djstripe.paymentintent', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.AddField(
        model_name='charge',
        name='payment_intent',
        field=djstripe.fields.StripeForeignKey(help_text='PaymentIntent associated with this charge, if one exists.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='charges', to='djstripe.paymentintent', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD),
    ),
    migrations.CreateModel(
        name='PaymentMethod',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('customer', djstripe.fields.StripeForeignKey(blank=True, help_text='Customer to which this PaymentMethod is saved. This will not be set when the PaymentMethod has not been saved to a Customer.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='payment_methods', to='djstripe.customer', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.AddField(
        model_name='paymentintent',
        name='payment_method',
        field=djstripe.fields.StripeForeignKey(blank=True, help_text='Payment method used in this PaymentIntent.', null=True, on_delete=django.db.models.deletion.SET_NULL, to='djstripe.paymentmethod', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD),
    ),
    migrations.CreateModel(
        name='Mandate',
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
            ('payment_method', djstripe.fields.StripeForeignKey(on_delete=django.db.models.deletion.CASCADE, to='djstripe.paymentmethod', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
    migrations.AddField(
        model_name='invoice',
        name='default_payment_method',
        field=djstripe.fields.StripeForeignKey(blank=True, help_text="Default payment method for the invoice. It must belong to the customer associated with the invoice. If not set, defaults to the subscription's default payment method, if any, or to the default payment method in the customer's invoice settings.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='djstripe.paymentmethod', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD),
    ),
    migrations.AddField(
        model_name='customer',
        name='default_payment_method',
        field=djstripe.fields.StripeForeignKey(blank=True, help_text='default payment method used for subscriptions and invoices for the customer.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='djstripe.paymentmethod', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD),
    ),
    migrations.AddField(
        model_name='charge',
        name='payment_method',
        field=djstripe.fields.StripeForeignKey(help_text='PaymentMethod used in this charge.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='charges', to='djstripe.paymentmethod', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD),
    ),
    migrations.CreateModel(
        name='Payout',
        fields=[
            ('djstripe_created', models.DateTimeField(auto_now_add=True)),
            ('djstripe_updated', models.DateTimeField(auto_now=True)),
            ('stripe_data', djstripe.fields.JSONField(default=dict)),
            ('djstripe_id', models.BigAutoField(primary_key=True, serialize=False, verbose_name='ID')),
            ('id', djstripe.fields.StripeIdField(max_length=255, unique=True)),
            ('livemode', models.BooleanField(blank=True, default=None, help_text='Null here indicates that the livemode status is unknown or was previously unrecorded. Otherwise, this field indicates whether this record comes from Stripe test mode or live mode operation.', null=True)),
            ('created', djstripe.fields.StripeDateTimeField(blank=True, null=True)),
            ('metadata', djstripe.fields.JSONField(blank=True, null=True)),
            ('currency', djstripe.fields.StripeCurrencyCodeField(max_length=3)),
            ('balance_transaction', djstripe.fields.StripeForeignKey(help_text='Balance transaction that describes the impact on your account balance.', null=True, on_delete=django.db.models.deletion.SET_NULL, to='djstripe.balancetransaction', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('destination', djstripe.fields.StripeForeignKey(help_text='Bank account or card the payout was sent to.', null=True, on_delete=django.db.models.deletion.PROTECT, to='djstripe.bankaccount', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('djstripe_owner_account', djstripe.fields.StripeForeignKey(blank=True, help_text='The Stripe Account this object belongs to.', null=True, on_delete=django.db.models.deletion.CASCADE, to='djstripe.account', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('failure_balance_transaction', djstripe.fields.StripeForeignKey(blank=True, help_text='If the payout failed or was canceled, this will be the balance transaction that reversed the initial balance transaction, and puts the funds from the failed payout back in your balance.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='failure_payouts', to='djstripe.balancetransaction', to_field=settings.DJSTRIPE_FOREIGN_KEY_TO_FIELD)),
            ('original_payout', models.OneToOneField(blank=True, help_text='If this payout reverses another, this is the ID of the original payout.', null=True, on_delete=django.db.models.deletion.SET_NULL, to='djstripe.payout')),
            ('reversed_by', models.OneToOneField(blank=True, help_text='If this payout was reversed, this is the ID of the payout that reverses this payout.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='reversed_payout', to='djstripe.payout')),
        ],
        options={
            'get_latest_by': 'created',
            'abstract': False,
        },
    ),
]
