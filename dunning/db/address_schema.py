"""m039_customer_address (issue 10, round 10): the customer's postal address, for the
statement PDF's address block and the paper letters (dunning/address.py formats it).

Four columns on ``customers``, NULL when the ERP gave none: ``address_line1`` (street and
number), ``address_line2`` (suite, building, colonia...), ``city``, ``postal_code``. The
region (state, province) is the ``subdivision`` the customer already has; the country
is ``country``. Written by the customers import (db/ledger/entities.py) and the demo.
"""

M039 = (
    "ALTER TABLE customers ADD COLUMN address_line1 TEXT",
    "ALTER TABLE customers ADD COLUMN address_line2 TEXT",
    "ALTER TABLE customers ADD COLUMN city TEXT",
    "ALTER TABLE customers ADD COLUMN postal_code TEXT",
)
