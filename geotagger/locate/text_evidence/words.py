"""Words common on signs, shop fronts, labels and screens that are also the names of small places.

Chosen by hand for this project (English plus the commonest sign words of a few European languages):
such a word never names a town when read alone ("SALE" is not Sale, Greater Manchester), and only
weakly a region or a country. Keys are ``names.fold``ed (lower case, no accents, no spaces).
"""

from __future__ import annotations

_WORDS = """
about above access action active address admission adult after again airport alarm all alley also
america american angel apple area arena arrival arrivals art arts auto avenue away baby back bakery
balance ball bank bar base bath bay beach beauty bed beer bell best big bike bird black blue board boat
body book border boss bottle boulevard box brand bread bridge brown bus business buy cafe cake call
camera camp canal capital car card care cargo carpark case cash castle cat center centre central
chance change charge cheap check cherry chicken child church cinema circle city class clean
clear clinic clock close closed club coach coast coffee cold college color colour come comfort
company control cook cool copy corner cost cotton country county court cream credit cross crown cup
cut daily dance danger dark date day deal delivery dental depot design desk diamond diner direct
doctor dog dollar door double down downtown dream dress drink drive drop dry duty early east eat echo
edge egg electric emergency empire end energy engine enter entrance entry euro event every exit
exchange exit express eye face fair family fashion fast ferry field fine fire first fish fit flat
floor flower food foot force forest fork free fresh friend front fruit fuel full fun furniture game
garage garden gas gate gift girl glass global go gold golf good grand green grill group guard guest
hair half hall hand happy harbor harbour health heart heat help here high hill history holiday home
honey horse hospital hot hotel house ice info information inn island jack jewel joy juice jump just
keep key kid king kitchen lake land lane last late law left level library life lift light line lion
little live lobby local lock long lost love low lucky lunch mail main mall man map marina market mart
max meat media medical meet metro middle mile milk mill mind mini mobile money moon more motel mother
motor mountain move museum music name nail national nature near new news next nice night noodle
north note now office oil old only open orange order outlet over pacific palace palm paper park
parking party pass passport pay peace people pepper pharmacy phone photo pier pink pizza place plaza
point police pool port post power press price prime print private pub public pull push queen quick
rail rain ranch rate reading real red rent rest restaurant retail rice ride right ring river road rock
roof room rose round route royal rule run safe safety sale salon salt sand save school sea season seat
second security service shell ship shoe shop shopping show side sign silver sky sleep slow smart smoke
snow soft sound south space spa speed sport spring square staff stage star start state station stay
steak steel step stop store street studio style sugar summer sun super supply sushi sweet table taxi
tea team temple terminal thank thanks ticket time tire today toilet top total tour tower town toy
track trade traffic train transit travel tree trip truck trust tunnel turn union unit university up
valley van victory view village visit wait walk wall want warning wash watch water way welcome well
west wheel white wild wind window wine winter wood world yard yellow young zone zoo
ausgang eingang strasse platz bahnhof markt kirche haus hotel apotheke sortie entree rue place gare
boulangerie pharmacie salida entrada calle plaza centro farmacia uscita entrata via piazza stazione
""".split()  # noqa: SIM905 - a word list reads best as words

COMMON_WORDS: frozenset[str] = frozenset(_WORDS)
