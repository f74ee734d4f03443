"""Phone numbers: E.164 storage, how a person dials them, where they ring."""

import pytest

from dunning.phones import dial_format, international, parse_phone, phone_type, time_zones


@pytest.mark.parametrize(
    ("text", "region", "e164", "kind"),
    [
        ("(212) 555-0100", "US", "+12125550100", "fixed_line"),
        ("212-555-0100", "US", "+12125550100", "fixed_line"),
        ("514 555 0123", "CA", "+15145550123", "fixed_line"),
        ("+1 800 234 5678", "US", "+18002345678", "toll_free"),
        ("01 42 68 53 00", "FR", "+33142685300", "fixed_line"),
        ("+33 1 42 68 53 00", "US", "+33142685300", "fixed_line"),  # written internationally
        ("55 1234 5678", "MX", "+525512345678", "fixed_line"),
        ("912 345 678", "ES", "+34912345678", "fixed_line"),
        ("020 7183 8750", "GB", "+442071838750", "fixed_line"),
        ("07911 123456", "gb", "+447911123456", "mobile"),
    ],
)
def test_parse_to_e164_and_type(text, region, e164, kind):
    assert parse_phone(text, region) == e164
    assert phone_type(e164) == kind


@pytest.mark.parametrize(("text", "region"), [("555-0100", "US"), ("hello", "US"), ("", "FR")])
def test_invalid_numbers_are_refused_by_name(text, region):
    with pytest.raises(ValueError) as err:
        parse_phone(text, region)
    assert repr(text) in str(err.value)


@pytest.mark.parametrize(
    ("e164", "from_region", "dialled"),
    [
        ("+33142685300", "FR", "01 42 68 53 00"),  # national format at home
        ("+33142685300", "US", "011 33 1 42 68 53 00"),  # US exit code
        ("+34912345678", "ES", "912 34 56 78"),
        ("+34912345678", "FR", "00 34 912 34 56 78"),  # European exit code
        ("+525512345678", "MX", "55 1234 5678"),
        ("+15145550123", "CA", "1 (514) 555-0123"),  # long distance within NANP
        ("+15145550123", "FR", "00 1 514-555-0123"),
    ],
)
def test_dial_format_is_how_a_person_there_dials(e164, from_region, dialled):
    assert dial_format(e164, from_region) == dialled


def test_international_format():
    assert international("+33142685300") == "+33 1 42 68 53 00"
    assert international("+12125550100") == "+1 212-555-0100"


QC = ("America/Toronto", "America/Halifax", "America/Blanc-Sablon", "America/Puerto_Rico")
ON = ("America/Toronto", "America/Winnipeg", "America/Atikokan", "America/Panama")


@pytest.mark.parametrize(
    ("e164", "country", "subdivision", "zones"),
    [
        ("+12125550100", "US", "NY", ("America/New_York",)),
        # the province spans more zones than the number: every one of them counts
        ("+15145550123", "CA", "QC", QC),
        ("+14165550123", "CA", "ON", ON),
        ("+33142685300", "FR", None, ("Europe/Paris",)),
        ("+34912345678", "ES", None, ("Europe/Madrid",)),
        ("+525512345678", "MX", None, ("America/Mexico_City",)),
        # UK mobiles may ring in the Channel Islands and Man: all on London's clock
        ("+447911123456", "GB", None, ("Europe/London", "Europe/Jersey")),
    ],
)
def test_time_zones(e164, country, subdivision, zones):
    assert set(zones) <= set(time_zones(e164, country, subdivision))


def test_toll_free_number_spans_every_zone_of_the_country_or_the_address():
    # a toll-free number rings anywhere: without a state, every zone of the country
    anywhere = time_zones("+18002345678", "US", None)
    assert anywhere[0] == "America/New_York"
    for z in ("America/Los_Angeles", "America/Anchorage", "America/Adak", "Pacific/Honolulu"):
        assert z in anywhere
    # the customer's address is narrower than the number, and the number adds nothing
    assert time_zones("+18002345678", "US", "CA") == ("America/Los_Angeles",)
