"""Word lists, regions and phone numbers for the demo portfolio (see demo/build.py).

Plain data plus the phone-number source. Phone numbers come from fictional ranges where
the numbering plan has them (NANP 555-01XX, Ofcom's drama ranges, France's 0X 99 00 ..),
else from random digits; every number is checked with ``phonenumbers`` for the
customer's country before use.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

# ------------------------------------------------------------------ team
# username, display name, role, languages, locale; the app opens as alice by default
COLLECTORS: tuple[tuple[str, str, str, str, str], ...] = (
    ("alice", "Alice Martin", "collector", "en,fr", "en_CA"),
    ("bruno", "Bruno Tremblay", "collector", "fr,en", "fr_CA"),
    ("carmen", "Carmen Ruiz", "collector", "es,en", "es_MX"),
    ("dave", "Dave Wilson", "collector", "en", "en_US"),
    ("lena", "Lena Okafor", "lead", "en,fr,es", "en_US"),
)
# where each of them works (collectors.tz): what they type is read on their clock
COLLECTOR_TZ: dict[str, str] = {
    "alice": "America/Toronto",
    "bruno": "America/Toronto",
    "carmen": "America/Mexico_City",
    "dave": "America/Chicago",
    "lena": "America/New_York",
}
# who works accounts in each language, with weights (the lead keeps a few)
ASSIGN: dict[str, tuple[tuple[str, int], ...]] = {
    "en": (("alice", 30), ("bruno", 12), ("dave", 50), ("lena", 3), ("carmen", 5)),
    "fr": (("alice", 38), ("bruno", 58), ("lena", 4)),
    "es": (("carmen", 96), ("lena", 4)),
}

# ------------------------------------------------------------------ regions


@dataclass(frozen=True)
class Region:
    key: str  # phone pool key, e.g. 'US-NY'
    country: str
    subdivision: str | None
    currency: str
    languages: tuple[tuple[str, int], ...]
    weight: int  # per thousand customers
    europe: bool  # call hours in UTC: Europe morning/afternoon, else the Americas
    fixed: tuple[str, ...]  # phone prefixes (E.164) for fixed lines, see _candidate
    mobile: tuple[str, ...]
    toll_free: bool = False


def _nanp(*codes: int) -> tuple[str, ...]:
    return tuple(f"+1{c}55501" for c in codes)  # 555-0100..0199: fictional numbers


REGIONS: tuple[Region, ...] = (
    Region("US-NY", "US", "NY", "USD", (("en", 100),), 90, False,
           _nanp(212, 315, 347, 516, 518, 585, 607, 631, 646, 716, 718, 845, 914, 917),
           _nanp(347, 646, 917), True),
    Region("US-CA", "US", "CA", "USD", (("en", 85), ("es", 15)), 90, False,
           _nanp(213, 310, 323, 408, 415, 510, 559, 619, 626, 650, 714, 818, 909, 916, 949),
           _nanp(310, 415, 818, 949), True),
    Region("US-TX", "US", "TX", "USD", (("en", 85), ("es", 15)), 80, False,
           _nanp(210, 214, 254, 281, 361, 409, 469, 512, 713, 806, 817, 832, 903, 915, 972),
           _nanp(469, 832, 972), True),
    Region("US-IL", "US", "IL", "USD", (("en", 100),), 40, False,
           _nanp(217, 224, 309, 312, 618, 630, 708, 773, 815, 847), _nanp(312, 773), True),
    Region("US-FL", "US", "FL", "USD", (("en", 85), ("es", 15)), 50, False,
           _nanp(239, 305, 321, 352, 407, 561, 727, 786, 813, 850, 904, 941, 954),
           _nanp(305, 786, 954), True),
    Region("US-WA", "US", "WA", "USD", (("en", 100),), 30, False,
           _nanp(206, 253, 360, 425, 509), _nanp(206, 425), True),
    Region("CA-ON", "CA", "ON", "CAD", (("en", 92), ("fr", 8)), 100, False,
           _nanp(226, 249, 289, 343, 416, 437, 519, 613, 647, 705, 807, 905),
           _nanp(416, 437, 647)),
    Region("CA-QC", "CA", "QC", "CAD", (("fr", 85), ("en", 15)), 100, False,
           _nanp(418, 438, 450, 514, 579, 581, 819, 873), _nanp(438, 514, 581)),
    Region("CA-BC", "CA", "BC", "CAD", (("en", 100),), 40, False,
           _nanp(236, 250, 604, 672, 778), _nanp(604, 778)),
    Region("MX-CMX", "MX", "CMX", "MXN", (("es", 100),), 50, False, ("+5255",), ("+5255",)),
    Region("MX-JAL", "MX", "JAL", "MXN", (("es", 100),), 25, False, ("+5233",), ("+5233",)),
    Region("MX-NLE", "MX", "NLE", "MXN", (("es", 100),), 25, False, ("+5281",), ("+5281",)),
    Region("FR-IDF", "FR", "IDF", "EUR", (("fr", 100),), 45, True, ("+3319900",),
           ("+336", "+339")),
    Region("FR-ARA", "FR", "ARA", "EUR", (("fr", 100),), 20, True, ("+3349900",), ("+336",)),
    Region("FR-NAQ", "FR", "NAQ", "EUR", (("fr", 100),), 15, True, ("+3359900",), ("+336",)),
    Region("ES-MD", "ES", "MD", "EUR", (("es", 100),), 30, True, ("+3491",), ("+346",)),
    Region("ES-CT", "ES", "CT", "EUR", (("es", 100),), 20, True, ("+3493",), ("+346",)),
    Region("ES-VC", "ES", "VC", "EUR", (("es", 100),), 10, True, ("+3496",), ("+346",)),
    Region("GB-ENG", "GB", "ENG", "GBP", (("en", 100),), 60, True,
           ("+442079460", "+441614960", "+441214960", "+441134960", "+441174960"),
           ("+4474", "+4475", "+4477", "+4478", "+4479")),
)  # fmt: skip
E164_LEN = {"+1": 12, "+52": 13, "+33": 12, "+34": 12, "+44": 13}
TOLL_FREE = tuple(f"+1{c}55501" for c in (800, 888, 877, 866, 855, 844, 833))

# customer-currency units per US dollar, to size amounts (not for money shown)
FX_PER_USD = {"USD": 1.0, "CAD": 1.37, "MXN": 18.0, "EUR": 0.92, "GBP": 0.79}

_PN_TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.VOIP: "voip",
}


def _candidate(rng: random.Random, prefix: str) -> str:
    cc = prefix[:3] if prefix[:3] in E164_LEN else prefix[:2]
    missing = E164_LEN[cc] - len(prefix)
    return prefix + str(rng.randrange(10**missing)).zfill(missing)


def check_number(e164: str, country: str) -> str | None:
    """The number's type (mobile, fixed_line, ...) when valid for ``country``, else None."""
    try:
        num = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    region = "US" if e164.startswith(TOLL_FREE) else country
    if not phonenumbers.is_valid_number_for_region(num, region):
        return None
    return _PN_TYPES.get(phonenumbers.number_type(num), "unknown")


def draw_number(rng: random.Random, prefixes: tuple[str, ...], country: str) -> tuple[str, str]:
    """A random valid number (e164, type) from one of ``prefixes``."""
    for _ in range(200):
        e164 = _candidate(rng, prefixes[int(rng.random() * len(prefixes))])
        kind = check_number(e164, country)
        if kind is not None:
            return e164, kind
    raise RuntimeError(f"no valid {country} number from {prefixes}")  # pragma: no cover


@lru_cache(maxsize=128)
def number_pool(prefixes: tuple[str, ...], country: str, size: int) -> tuple[tuple[str, str], ...]:
    """Up to ``size`` distinct valid numbers, for builds too big to check each row.

    The same for every build (builds differ in which they draw), so a process checks
    them once."""
    rng = random.Random(f"dunning-demo-phones:{country}:{','.join(prefixes)}")
    out: dict[str, str] = {}
    tries = 0
    while len(out) < size and tries < size * 4:
        tries += 1
        e164 = _candidate(rng, prefixes[tries % len(prefixes)])
        if e164 not in out:
            kind = check_number(e164, country)
            if kind is not None:
                out[e164] = kind
    return tuple(sorted(out.items()))


# ------------------------------------------------------------------ people and companies


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


FIRST = {
    "en": _words(
        "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William "
        "Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew "
        "Lisa Anthony Betty Mark Sandra Steven Ashley Paul Emily Andrew Donna Joshua Michelle "
        "Kevin Amanda Brian Melissa George Rebecca Priya Wei Aisha Omar Fiona Graham"
    ),
    "fr": _words(
        "Marie Jean Sophie Pierre Isabelle Michel Nathalie Philippe Catherine Alain Julie "
        "François Camille Luc Émilie Mathieu Chloé Nicolas Geneviève Sébastien Hélène Olivier "
        "Manon Antoine Valérie Étienne Louise Gabriel Léa Hugo Josée Réjean Sylvie Benoît"
    ),
    "es": _words(
        "María José Juan Guadalupe Carmen Luis Ana Carlos Laura Jorge Sofía Miguel Lucía "
        "Javier Isabel Alejandro Elena Fernando Paula Ricardo Marta Diego Rosa Antonio Patricia "
        "Manuel Verónica Francisco Andrea Raúl Ximena Rodrigo Pilar Joaquín"
    ),
}
LAST = {
    "en": _words(
        "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas "
        "Moore Martin Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King "
        "Wright Scott Hill Green Adams Baker Nelson Carter Mitchell Roberts Campbell Evans Turner "
        "Parker Collins Edwards Patel Nguyen Singh Chen MacDonald Murphy O'Brien Kelly"
    ),
    "fr": _words(
        "Tremblay Gagnon Roy Côté Bouchard Gauthier Morin Lavoie Fortin Gagné Ouellet "
        "Pelletier Bélanger Lévesque Bergeron Leblanc Paquette Girard Martin Bernard Dubois "
        "Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel Fournier "
        "Mercier Dupont Lambert Fontaine Rousseau Vincent Caron"
    ),
    "es": _words(
        "García Hernández Martínez López González Rodríguez Pérez Sánchez Ramírez Torres "
        "Flores Rivera Gómez Díaz Ruiz Morales Jiménez Álvarez Romero Navarro Moreno Muñoz "
        "Castillo Ortiz Vargas Mendoza Castro Guerrero Medina Herrera Aguilar Delgado"
    ),
}
TITLES = {
    "en": ("Accounts Payable", "Controller", "Office Manager", "Owner", "CFO", "Bookkeeper",
           "AP Clerk", "Purchasing Manager"),
    "fr": ("Comptes fournisseurs", "Contrôleur", "Directrice administrative", "Propriétaire",
           "Comptable", "Directeur financier", "Commis comptable", "Acheteur"),
    "es": ("Cuentas por pagar", "Contralor", "Gerente administrativo", "Dueño", "Contadora",
           "Director de finanzas", "Auxiliar contable", "Compras"),
}  # fmt: skip
AP_MAILBOX = {"en": "ap", "fr": "comptabilite", "es": "cuentasporpagar"}
RELATIVE = {"en": "Spouse", "fr": "Conjoint(e)", "es": "Cónyuge"}
CONSUMER_DOMAINS = ("example.com", "example.net", "example.org")

INDUSTRY = {
    "en": ("Hardware", "Plumbing", "Electric", "Logistics", "Freight", "Auto Parts",
           "Dental Supply", "Builders", "Roofing", "Landscaping", "Catering", "Printing",
           "Packaging", "Furniture", "Foods", "Medical Supply", "Office Supply", "Machining",
           "HVAC", "Trucking", "Steel", "Lumber", "Tire & Wheel", "Software", "Bakery",
           "Construction", "Paving", "Glass", "Signs"),
    "fr": ("Plomberie", "Électricité", "Quincaillerie", "Transports", "Toitures",
           "Imprimerie", "Emballages", "Meubles", "Alimentation", "Construction",
           "Boulangerie", "Distribution", "Mécanique", "Nettoyage", "Informatique",
           "Métallurgie", "Vitrerie", "Paysagement", "Excavation", "Rénovations"),
    "es": ("Distribuciones", "Ferretería", "Transportes", "Construcciones", "Alimentos",
           "Plásticos", "Muebles", "Papelería", "Refacciones", "Logística", "Imprenta",
           "Electricidad", "Materiales", "Suministros", "Comercializadora", "Maquinados",
           "Empaques", "Herrería"),
}  # fmt: skip
PREFIX_EN = ("Northwind", "Summit", "Bluewater", "Redwood", "Lakeside", "Pioneer", "Evergreen",
             "Granite", "Harbor", "Silver Creek", "Ironbridge", "Prairie", "Keystone", "Atlas",
             "Beacon", "Cedar", "Riverbend", "Highland", "Meridian", "Cobalt", "Oakridge",
             "Maple Leaf", "Westfield", "Eastgate", "Blackstone", "Clearwater")  # fmt: skip
PLACE_ES = ("del Norte", "del Bajío", "del Pacífico", "del Golfo", "del Centro", "de Levante",
            "del Sur", "Mediterráneo", "Peninsular")  # fmt: skip
SUFFIX = {
    "US": ("LLC", "Inc.", "Corp.", "Co.", "LLC", "Inc."),
    "CA-en": ("Inc.", "Ltd.", "Corp.", "Inc."),
    "CA-fr": ("Inc.", "Ltée", "inc.", "Inc."),
    "GB": ("Ltd", "Ltd", "PLC", "Ltd"),
    "FR": ("SARL", "SAS", "SA", "SARL", "EURL"),
    "MX": ("S.A. de C.V.", "S.A. de C.V.", "S. de R.L. de C.V."),
    "ES": ("S.L.", "S.L.", "S.A.", "S.L.U."),
}

# ------------------------------------------------------------------ history text

NOTES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "no_answer": (
            "No answer.",
            "Rang out, no voicemail.",
            "No answer at the main line.",
            "No pickup.",
        ),
        "left_message": (
            "Left voicemail asking for a call back.",
            "Left a message with the receptionist.",
            "Voicemail: gave our number and the invoice numbers.",
        ),
        "busy": ("Line busy.", "Busy signal, will retry."),
        "callback": (
            "Asked us to call back; AP is in a meeting.",
            "Call back requested, the person in charge is out today.",
        ),
        "promise_to_pay": (
            "Promised payment by the date agreed.",
            "Will pay by cheque, promised date confirmed.",
            "Confirmed they will pay by EFT.",
        ),
        "payment_plan": ("Agreed a payment plan in three instalments.",),
        "paid": (
            "Says it was paid; asked for the remittance advice.",
            "Customer reports payment sent, reference noted.",
        ),
        "dispute": (
            "Disputes the invoice, sent to the department concerned.",
            "Says the goods were not received; opened a dispute.",
        ),
        "refused": (
            "Refuses to pay, says the price was never agreed.",
            "Refused; asked for a lead to review.",
        ),
        "wrong_number": ("Wrong number, not the customer.", "Number belongs to someone else."),
        "note": (
            "Sent a copy of the statement by email.",
            "Checked the ledger before calling.",
            "Customer portal shows the invoices as viewed.",
        ),
        "escalated": ("Escalated.",),
        "cease": ("Written request to stop calling received.",),
    },
    "fr": {
        "no_answer": (
            "Pas de réponse.",
            "Aucune réponse, pas de boîte vocale.",
            "Pas de réponse à la ligne principale.",
        ),
        "left_message": (
            "Message laissé, demande de rappel.",
            "Message laissé à la réception.",
            "Boîte vocale : numéros de factures laissés.",
        ),
        "busy": ("Ligne occupée.", "Occupé, on rappellera."),
        "callback": (
            "Demande de rappeler, la comptable est en réunion.",
            "Rappel demandé, la personne responsable est absente aujourd'hui.",
        ),
        "promise_to_pay": (
            "Promesse de paiement à la date convenue.",
            "Paiera par chèque, date confirmée.",
            "Confirme un virement à la date convenue.",
        ),
        "payment_plan": ("Entente de paiement en trois versements.",),
        "paid": (
            "Dit avoir payé ; demandé l'avis de paiement.",
            "Paiement envoyé selon le client, référence notée.",
        ),
        "dispute": (
            "Conteste la facture, transmis au service concerné.",
            "Marchandise non reçue selon le client ; litige ouvert.",
        ),
        "refused": (
            "Refuse de payer, conteste le prix.",
            "Refus ; révision par la chef d'équipe demandée.",
        ),
        "wrong_number": ("Mauvais numéro.", "Le numéro appartient à quelqu'un d'autre."),
        "note": ("Relevé de compte envoyé par courriel.", "Grand livre vérifié avant l'appel."),
        "escalated": ("Dossier transféré.",),
        "cease": ("Demande écrite de cesser les appels reçue.",),
    },
    "es": {
        "no_answer": (
            "No contestan.",
            "Sin respuesta, sin buzón de voz.",
            "Nadie contesta en el conmutador.",
        ),
        "left_message": (
            "Dejé mensaje pidiendo que nos llamen.",
            "Dejé recado con la recepcionista.",
            "Buzón de voz: dejé los números de factura.",
        ),
        "busy": ("Línea ocupada.", "Ocupado, vuelvo a intentar."),
        "callback": (
            "Pidió que llamemos más tarde; cuentas por pagar en junta.",
            "Piden devolver la llamada, el responsable no está hoy.",
        ),
        "promise_to_pay": (
            "Promete pagar en la fecha acordada.",
            "Pagará con transferencia, fecha confirmada.",
            "Confirma el pago en la fecha acordada.",
        ),
        "payment_plan": ("Acordamos un plan de pagos en tres parcialidades.",),
        "paid": (
            "Dice que ya pagó; pedí el comprobante.",
            "El cliente reporta el pago, referencia anotada.",
        ),
        "dispute": (
            "Disputa la factura, enviada al área correspondiente.",
            "Dice que no recibió la mercancía; se abrió una disputa.",
        ),
        "refused": (
            "Se niega a pagar, dice que el precio no se acordó.",
            "Se negó; pedí revisión de la líder.",
        ),
        "wrong_number": ("Número equivocado.", "El número es de otra persona."),
        "note": ("Envié el estado de cuenta por correo.", "Revisé el libro mayor antes de llamar."),
        "escalated": ("Escalado.",),
        "cease": ("Recibimos solicitud por escrito de no llamar.",),
    },
}
PAY_REFS = {"en": ("CHQ", "EFT", "ACH", "WIRE"), "fr": ("CHQ", "VIR", "TEF"),
            "es": ("SPEI", "TRF", "CHQ")}  # fmt: skip
DISPUTE_REASONS = ("pricing", "not_received", "damaged", "quality", "billing_error",
                   "duplicate", "other")  # fmt: skip
DEPARTMENTS = ("sales", "customer_service", "billing", "legal")
