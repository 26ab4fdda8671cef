import type { Translations } from './en';

/** French strings (the original product's language). */
const fr: Translations = {
  appName: 'TalkRooms',
  login: {
    tagline: 'Salles de discussion en temps réel',
    username: "Nom d'utilisateur",
    usernamePlaceholder: 'Votre pseudo',
    room: 'Room',
    roomPlaceholder: 'general',
    serverUrl: 'Serveur',
    suggested: 'Rooms suggérées',
    active: 'Rooms actives',
    activeNone: 'Aucune room active pour le moment',
    activeLoading: 'Chargement des rooms actives…',
    activeFailed: 'Impossible de charger les rooms actives',
    refresh: 'Actualiser',
    users: { one: '{count} utilisateur', other: '{count} utilisateurs' },
    submit: 'Rejoindre la Room',
  },
  errors: {
    username:
      "Le nom d'utilisateur doit faire 1 à 32 caractères : lettres, chiffres, espaces, - _ .",
    room: "L'identifiant de room doit faire 1 à 32 caractères : a-z, 0-9, - _",
    message: 'Le message doit faire 1 à 2000 caractères',
    serverUrl: "L'adresse du serveur doit commencer par http:// ou https://",
    name_taken: 'Ce nom est déjà utilisé dans cette room. Choisissez-en un autre.',
    rate_limited: 'Trop de messages : 10 au plus toutes les 5 s',
    unavailable: 'Le serveur ne peut pas enregistrer les messages pour le moment ; nouvel essai…',
    not_in_room: 'Hors de la room ; nouvelle connexion…',
  },
  chat: {
    online: { one: '{count} en ligne', other: '{count} en ligne' },
    connection: {
      connecting: 'Connexion…',
      online: 'Connecté',
      reconnecting: 'Reconnexion…',
      offline: 'Hors ligne',
      left: 'Parti',
    },
    leave: 'Quitter',
    users: 'Utilisateurs en ligne',
    you: 'vous',
    inputPlaceholder: 'Tapez un message…',
    send: 'Envoyer',
    empty: 'Aucun message pour le moment. Dites bonjour !',
    joined: '{name} a rejoint la room',
    left: '{name} a quitté la room',
    typing: {
      one: '{a} écrit…',
      two: '{a} et {b} écrivent…',
      many: '{a}, {b} et {count} autres écrivent…',
    },
    pending: 'Envoi…',
    failed: 'Non envoyé : {error}',
    back: 'Retour',
  },
};

export default fr;
