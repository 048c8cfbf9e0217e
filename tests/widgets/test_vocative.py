import pytest

from widgets.greeting import greet
from widgets.vocative import display_name, vocative

# Common Polish first names and their vocative (wołacz).
MALE = [
    ("Krzysztof", "Krzysztofie"), ("Marek", "Marku"), ("Tomasz", "Tomaszu"), ("Paweł", "Pawle"),
    ("Piotr", "Piotrze"), ("Jan", "Janie"), ("Andrzej", "Andrzeju"), ("Adam", "Adamie"),
    ("Michał", "Michale"), ("Łukasz", "Łukaszu"), ("Mateusz", "Mateuszu"), ("Jakub", "Jakubie"),
    ("Kamil", "Kamilu"), ("Wojciech", "Wojciechu"), ("Maciej", "Macieju"),
    ("Tadeusz", "Tadeuszu"), ("Grzegorz", "Grzegorzu"), ("Rafał", "Rafale"),
    ("Dariusz", "Dariuszu"), ("Zbigniew", "Zbigniewie"), ("Jerzy", "Jerzy"),
    ("Stanisław", "Stanisławie"), ("Józef", "Józefie"), ("Robert", "Robercie"),
    ("Bartosz", "Bartoszu"), ("Dawid", "Dawidzie"), ("Szymon", "Szymonie"),
    ("Sebastian", "Sebastianie"), ("Artur", "Arturze"), ("Marcin", "Marcinie"),
    ("Daniel", "Danielu"), ("Kacper", "Kacprze"), ("Filip", "Filipie"), ("Wiktor", "Wiktorze"),
    ("Antoni", "Antoni"), ("Henryk", "Henryku"), ("Ryszard", "Ryszardzie"), ("Karol", "Karolu"),
    ("Jacek", "Jacku"), ("Leszek", "Leszku"), ("Patryk", "Patryku"), ("Dominik", "Dominiku"),
    ("Hubert", "Hubercie"), ("Aleksander", "Aleksandrze"), ("Konrad", "Konradzie"),
    ("Kazimierz", "Kazimierzu"), ("Mikołaj", "Mikołaju"), ("Franciszek", "Franciszku"),
    ("Edward", "Edwardzie"), ("Witold", "Witoldzie"), ("Kuba", "Kubo"), ("Igor", "Igorze"),
    ("Oskar", "Oskarze"), ("Ernest", "Erneście"), ("Bartłomiej", "Bartłomieju"),
    ("Ignacy", "Ignacy"), ("Borys", "Borysie"), ("Lech", "Lechu"), ("Wojtek", "Wojtku"),
    ("Olek", "Olku"), ("Janek", "Janku"), ("Maciek", "Maćku"), ("Bartek", "Bartku"),
]
FEMALE = [
    ("Anna", "Anno"), ("Kasia", "Kasiu"), ("Maria", "Mario"), ("Katarzyna", "Katarzyno"),
    ("Małgorzata", "Małgorzato"), ("Agnieszka", "Agnieszko"), ("Barbara", "Barbaro"),
    ("Ewa", "Ewo"), ("Krystyna", "Krystyno"), ("Elżbieta", "Elżbieto"),
    ("Magdalena", "Magdaleno"), ("Joanna", "Joanno"), ("Aleksandra", "Aleksandro"),
    ("Monika", "Moniko"), ("Teresa", "Tereso"), ("Natalia", "Natalio"), ("Karolina", "Karolino"),
    ("Marta", "Marto"), ("Dorota", "Doroto"), ("Jadwiga", "Jadwigo"), ("Julia", "Julio"),
    ("Zofia", "Zofio"), ("Zosia", "Zosiu"), ("Basia", "Basiu"), ("Gosia", "Gosiu"),
    ("Ania", "Aniu"), ("Ola", "Olu"), ("Wiktoria", "Wiktorio"), ("Alicja", "Alicjo"),
    ("Patrycja", "Patrycjo"), ("Zuzanna", "Zuzanno"), ("Wioletta", "Wioletto"),
    ("Grażyna", "Grażyno"), ("Urszula", "Urszulo"), ("Hanna", "Hanno"), ("Iwona", "Iwono"),
    ("Beata", "Beato"), ("Emilia", "Emilio"), ("Oliwia", "Oliwio"), ("Jolanta", "Jolanto"),
    ("Miriam", "Miriam"), ("Noemi", "Noemi"), ("Jola", "Jolu"), ("Izabela", "Izabelo"),
    ("Stefania", "Stefanio"), ("Klaudia", "Klaudio"), ("Tosia", "Tosiu"), ("Kinga", "Kingo"),
]


@pytest.mark.parametrize(("name", "expected"), MALE + FEMALE)
def test_polish_vocative(name: str, expected: str) -> None:
    assert vocative(name) == expected


def test_table_is_large_enough() -> None:
    assert len(MALE) >= 30 and len(FEMALE) >= 30


@pytest.mark.parametrize(("name", "expected"), [
    ("ANNA", "Anno"), ("krzysztof", "Krzysztofie"), ("  Marek ", "Marku"),
])
def test_case_and_whitespace_are_normalised(name: str, expected: str) -> None:
    assert vocative(name) == expected


@pytest.mark.parametrize("name", [
    "John", "Michael", "Kevin", "Scott", "Yvonne", "Marie", "Matthew", "Bill", "Jessica Q",
    "Anna-Maria", "Jan Paweł", "R2D2", "<script>", "Ann\"a", "", "x" * 60, "Nikola", "Bruno",
    "Jean-Luc", "Łó", "Zbysiek",
])
def test_names_that_cannot_be_inflected_safely(name: str) -> None:
    assert vocative(name) is None


def test_greeting_uses_vocative_in_polish_and_plain_name_elsewhere() -> None:
    assert greet("Krzysztof", "pl") == "Witaj, Krzysztofie!"
    assert greet("Anna", "pl") == "Witaj, Anno!"
    assert greet("Krzysztof", "en") == "Hello, Krzysztof!"
    assert greet("Anna", "de") == "Hallo Anna!"


def test_greeting_falls_back_to_no_name() -> None:
    assert greet("John", "pl") == "Witaj!"
    assert greet("", "pl") == "Witaj!"
    assert greet("<script>alert(1)</script>", "en") == "Hello!"
    assert greet(None, "de") == "Hallo!"


def test_display_name_accepts_names_and_rejects_junk() -> None:
    assert display_name("Jean-Luc") == "Jean-Luc"
    assert display_name("O'Brien") == "O'Brien"
    assert display_name("Anna Maria") == "Anna Maria"
    assert display_name("a\"b") is None
    assert display_name("x1") is None
    assert display_name("Anna  ") == "Anna"
